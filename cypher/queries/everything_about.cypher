// name: everything_about
// question: What is recorded about this person, place or vehicle: every link, who recorded
//   it, when, and how it was graded?
// param: entity_id string (required) — the id of a young person, adult, location or vehicle (a
//   young person's: their pseudonym, YP-…)
// returns: link_id, link_type, direction, other_id, other_kind, other_role,
//   other_categories, first_seen, last_seen, count, agency, reference, grading,
//   protective, notes
// note: direction is 'out' when the entity is the link's source (the adult in ALLEGED_HARM,
//   the person in SEEN_AT) and 'in' when it is the target.
// note: grading is source/intelligence/handling in the 3x5x2 system, '-' where not
//   recorded; an allegation is not a fact, and 3 or E counts for little.
// note: notes are the recording agency's free text and may name people.
// :param entity_id => 'AD097'
MATCH (entity:Entity {id: $entity_id})-[r]-(other:Entity)
RETURN r.link_id AS link_id,
       type(r) AS link_type,
       CASE WHEN startNode(r) = entity THEN 'out' ELSE 'in' END AS direction,
       other.id AS other_id,
       other.kind AS other_kind,
       other.role AS other_role,
       coalesce(other.category, []) +
         [c IN coalesce(other.category_derived, []) | c + ' (derived)'] AS other_categories,
       r.first_seen AS first_seen,
       r.last_seen AS last_seen,
       coalesce(r.count, 1) AS count,
       r.agency AS agency,
       r.reference AS reference,
       coalesce(r.source_grade, '-') + '/' + coalesce(r.intel_grade, '-') + '/' +
         coalesce(r.handling, '-') AS grading,
       coalesce(r.protective, false) AS protective,
       r.notes AS notes
ORDER BY coalesce(r.last_seen, r.first_seen) DESC, link_id;
