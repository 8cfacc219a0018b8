// name: who_else_at_location
// question: Who else (people and vehicles) is recorded at this location in a time window?
// param: location_id string (required) — the location's id
// param: from date = null — the window's first day (null: no lower bound)
// param: to date = null — the window's last day (null: no upper bound)
// returns: entity_id, kind, role, categories, link_type, first_seen, last_seen, count,
//   agency, reference, grading
// note: a record is in the window when its first_seen..last_seen span overlaps it; a
//   record with no dates is always shown.
// :param location_id => 'LOC033'
// :param from => date('2026-01-01')
// :param to => date('2026-11-30')
MATCH (place:Location {id: $location_id})<-[r]-(other:Entity)
WITH other, r, r.first_seen AS starts, coalesce(r.last_seen, r.first_seen) AS ends
WHERE ($from IS NULL OR ends IS NULL OR ends >= $from)
  AND ($to IS NULL OR starts IS NULL OR starts <= $to)
RETURN other.id AS entity_id,
       other.kind AS kind,
       other.role AS role,
       coalesce(other.category, []) +
         [c IN coalesce(other.category_derived, []) | c + ' (derived)'] AS categories,
       type(r) AS link_type,
       r.first_seen AS first_seen,
       r.last_seen AS last_seen,
       coalesce(r.count, 1) AS count,
       r.agency AS agency,
       r.reference AS reference,
       coalesce(r.source_grade, '-') + '/' + coalesce(r.intel_grade, '-') + '/' +
         coalesce(r.handling, '-') AS grading
ORDER BY kind, role, entity_id, first_seen;
