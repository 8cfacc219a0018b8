// name: places_adult_frequents
// question: Which places does this adult frequent, in person or by the vehicles they drive
//   or keep, and are young people found or seen there?
// param: adult_id string (required) — the adult's id
// param: since date = null — only records last seen on or after this day (null: all)
// returns: location_id, location_name, location_kind, area, how, sightings, first_seen,
//   last_seen, young_people_there
// note: how lists the link types, 'by VEH01' style entries for vehicle sightings (ANPR);
//   young_people_there counts the different young people found, seen or placed there.
// :param adult_id => 'AD097'
// :param since => null
MATCH (adult:Adult {id: $adult_id})
CALL (adult) {
  MATCH (adult)-[r:LIVES_AT|WORKS_AT|SEEN_AT|ATTENDS]->(place:Location)
  RETURN place, r, type(r) AS how
  UNION ALL
  MATCH (adult)-[:DRIVES|KEEPER_OF]->(vehicle:Vehicle)
  WITH DISTINCT vehicle
  MATCH (vehicle)-[r:SEEN_AT]->(place:Location)
  RETURN place, r, 'by ' + vehicle.id AS how
}
WITH place, r, how
WHERE $since IS NULL OR coalesce(r.last_seen, r.first_seen) >= $since
WITH place,
     collect(DISTINCT how) AS how,
     sum(coalesce(r.count, 1)) AS sightings,
     min(r.first_seen) AS first_seen,
     max(coalesce(r.last_seen, r.first_seen)) AS last_seen
RETURN place.id AS location_id,
       place.name AS location_name,
       place.location_kind AS location_kind,
       place.area AS area,
       how,
       sightings,
       first_seen,
       last_seen,
       COUNT {
         MATCH (young_person:YoungPerson)-[:FOUND_AT|SEEN_AT|PLACED_AT]->(place)
         RETURN DISTINCT young_person
       } AS young_people_there
ORDER BY sightings DESC, location_id;
