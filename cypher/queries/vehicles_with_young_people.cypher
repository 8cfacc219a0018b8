// name: vehicles_with_young_people
// question: Which vehicles have carried at least N different young people, who drives or
//   keeps them, and who recorded it?
// param: min_young_people integer 1..1000 = 3 — the fewest different young passengers
// returns: vehicle_id, registration, make, model, colour, private_hire, operator,
//   young_people, young_person_ids, drivers_and_keepers, agencies, first_seen, last_seen
// note: a school-run minibus carries many young people too: agencies and the drivers'
//   records tell a contract run from exploitation.
// :param min_young_people => 3
MATCH (young_person:YoungPerson)-[ride:PASSENGER_IN]->(vehicle:Vehicle)
WITH vehicle,
     collect(DISTINCT young_person.id) AS young_person_ids,
     collect(DISTINCT ride.agency) AS agencies,
     min(ride.first_seen) AS first_seen,
     max(coalesce(ride.last_seen, ride.first_seen)) AS last_seen
WHERE size(young_person_ids) >= $min_young_people
OPTIONAL MATCH (adult:Adult)-[:DRIVES|KEEPER_OF]->(vehicle)
WITH vehicle, young_person_ids, agencies, first_seen, last_seen,
     collect(DISTINCT adult.id) AS drivers_and_keepers
RETURN vehicle.id AS vehicle_id,
       vehicle.registration AS registration,
       vehicle.make AS make,
       vehicle.model AS model,
       vehicle.colour AS colour,
       coalesce(vehicle.private_hire, false) AS private_hire,
       vehicle.operator AS operator,
       size(young_person_ids) AS young_people,
       young_person_ids,
       drivers_and_keepers,
       agencies,
       first_seen,
       last_seen
ORDER BY young_people DESC, vehicle_id;
