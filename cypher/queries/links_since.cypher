// name: links_since
// question: Which links were first recorded on or after a date (optionally of some types or
//   from some agencies)?
// param: since date (required) — the first day to include
// param: types list<string> = null — only these link types, e.g. FOUND_AT,SEEN_AT (null: all)
// param: agencies list<string> = null — only these agencies, e.g. police,health (null: all)
// returns: link_id, link_type, source_id, source_kind, target_id, target_kind, first_seen,
//   last_seen, agency, reference, grading
// note: a link with no first_seen counts from its last_seen; links with no dates at all
//   are left out.
// :param since => date('2026-10-01')
// :param types => null
// :param agencies => null
MATCH (source:Entity)-[r]->(target:Entity)
WHERE coalesce(r.first_seen, r.last_seen) >= $since
  AND ($types IS NULL OR type(r) IN $types)
  AND ($agencies IS NULL OR r.agency IN $agencies)
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
       coalesce(r.source_grade, '-') + '/' + coalesce(r.intel_grade, '-') + '/' +
         coalesce(r.handling, '-') AS grading
ORDER BY coalesce(r.first_seen, r.last_seen), link_id;
