// name: well_graded_intelligence
// question: What do we hold that is graded A or B from a source graded 1 or 2 (optionally
//   about one entity, or of some link types)?
// param: entity_id string = null — only links of this entity (null: every entity)
// param: source_grades list<string> = ['1', '2'] — the source evaluations to keep
// param: intel_grades list<string> = ['A', 'B'] — the intelligence assessments to keep
// param: types list<string> = null — only these link types (null: all)
// returns: link_id, link_type, source_id, source_kind, target_id, target_kind, first_seen,
//   last_seen, agency, reference, grading
// note: ungraded records (most school and social-care records) are left out.
// :param entity_id => null
// :param source_grades => ['1', '2']
// :param intel_grades => ['A', 'B']
// :param types => null
MATCH (source:Entity)-[r]->(target:Entity)
WHERE r.source_grade IN $source_grades
  AND r.intel_grade IN $intel_grades
  AND ($types IS NULL OR type(r) IN $types)
  AND ($entity_id IS NULL OR source.id = $entity_id OR target.id = $entity_id)
RETURN r.link_id AS link_id,
       type(r) AS link_type,
       source.id AS source_id,
       source.kind AS source_kind,
       target.id AS target_id,
       target.kind AS target_kind,
       r.first_seen AS first_seen,
       r.last_seen AS last_seen,
       r.agency AS agency,
       r.reference AS reference,
       r.source_grade + '/' + r.intel_grade + '/' + coalesce(r.handling, '-') AS grading
ORDER BY r.source_grade, r.intel_grade, coalesce(r.last_seen, r.first_seen) DESC, link_id;
