// name: protective_factors
// question: What protects this young person: trusted adults, family, school and other
//   links recorded as protective?
// param: young_person_id string (required) — the young person's pseudonym (YP-…), as
//   graphguard's target lists and packs name them: the graph holds no child's id
// returns: link_id, link_type, other_id, other_kind, other_role, other_categories,
//   professional, first_seen, last_seen, agency, grading
// note: these are the ties a move away would cut; disrupt the risk, do not move the child.
// note: the example is the demo's young person of that id; in Neo4j they are its
//   pseudonym, keyed by the loading state home's pseudonym.key.
// :param young_person_id => 'YP076'
MATCH (young_person:YoungPerson {id: $young_person_id})-[r]-(other:Entity)
WHERE coalesce(r.protective, false) OR type(r) = 'SUPPORTS'
RETURN r.link_id AS link_id,
       type(r) AS link_type,
       other.id AS other_id,
       other.kind AS other_kind,
       other.role AS other_role,
       coalesce(other.category, []) +
         [c IN coalesce(other.category_derived, []) | c + ' (derived)'] AS other_categories,
       coalesce(other.professional, false) AS professional,
       r.first_seen AS first_seen,
       r.last_seen AS last_seen,
       r.agency AS agency,
       coalesce(r.source_grade, '-') + '/' + coalesce(r.intel_grade, '-') + '/' +
         coalesce(r.handling, '-') AS grading
ORDER BY link_type, other_id;
