// name: vehicles_of_adults_of_concern
// question: Which vehicles do adults of concern drive, keep or travel in, and which are
//   shared between several adults?
// param: min_adults integer 1..100 = 1 — the fewest different adults linked to the vehicle
// returns: vehicle_id, registration, private_hire, operator, adults, adults_of_concern,
//   how, young_passengers
// note: an adult of concern is flagged suspected, or is the source of an ALLEGED_HARM link
//   not graded E (suspected to be false).
// note: how lists each adult's links to the vehicle ('AD009 DRIVES'); set min_adults to 2
//   for vehicles shared between adults.
// :param min_adults => 1
MATCH (adult:Adult)-[link:DRIVES|KEEPER_OF|PASSENGER_IN]->(vehicle:Vehicle)
WITH vehicle, adult, collect(DISTINCT adult.id + ' ' + type(link)) AS links,
     coalesce(adult.suspected, false) OR EXISTS {
       MATCH (adult)-[harm:ALLEGED_HARM]->(:YoungPerson)
       WHERE coalesce(harm.intel_grade, '') <> 'E'
     } AS of_concern
WITH vehicle,
     collect(adult.id) AS adults,
     [entry IN collect([adult.id, of_concern]) WHERE entry[1] | entry[0]] AS adults_of_concern,
     reduce(all_links = [], entries IN collect(links) | all_links + entries) AS how
WHERE size(adults_of_concern) >= 1 AND size(adults) >= $min_adults
RETURN vehicle.id AS vehicle_id,
       vehicle.registration AS registration,
       coalesce(vehicle.private_hire, false) AS private_hire,
       vehicle.operator AS operator,
       adults,
       adults_of_concern,
       how,
       COUNT { MATCH (:YoungPerson)-[:PASSENGER_IN]->(vehicle) } AS young_passengers
ORDER BY size(adults_of_concern) DESC, size(adults) DESC, vehicle_id;
