// name: vehicle_of_concern_at_school
// question: Which vehicles driven or kept by an adult of concern were newly seen at a school?
// param: adults_of_concern list<string> (required) — ids of the adults of concern (the analysis decides)
// param: since date (required) — sightings first recorded after this day are new
// param: as_of date (required) — the picture as it stood on this day
// returns: subject, young_people, adults, contexts, trigger, evidence
// note: a vehicle of concern is one an adult of concern drives or keeps (on or before
//   $as_of); a school-run taxi whose driver is not of concern raises nothing.
// note: trigger is the sighting; evidence is the sighting and the driving or keeping links.
// :param adults_of_concern => ["AD001"]
// :param since => date("2026-01-01")
// :param as_of => date("2026-02-01")
MATCH (vehicle:Vehicle)-[sighting:SEEN_AT]->(school:Location {location_kind: "school"})
WHERE sighting.first_seen > $since AND sighting.first_seen <= $as_of
MATCH (adult:Adult)-[driving:DRIVES|KEEPER_OF]->(vehicle)
WHERE adult.id IN $adults_of_concern
  AND NOT coalesce(driving.protective, false)
  AND (driving.first_seen IS NULL OR driving.first_seen <= $as_of)
WITH vehicle, school, sighting, collect(DISTINCT adult.id) AS adults, collect(driving.link_id) AS drivings
RETURN vehicle.id AS subject,
       [] AS young_people,
       adults,
       [vehicle.id, school.id] AS contexts,
       [sighting.link_id] AS trigger,
       [sighting.link_id] + drivings AS evidence
ORDER BY subject, trigger[0];
