// name: young_person_found_at_context_of_concern
// question: Which young people were found after going missing at a place an adult of concern already frequented?
// param: adults_of_concern list<string> (required) — ids of the adults of concern (the analysis decides)
// param: since date (required) — finds first recorded after this day are new
// param: as_of date (required) — the picture as it stood on this day
// returns: subject, young_people, adults, contexts, trigger, evidence
// note: "already": the adult's link to the place (lives, works, seen there, …) was
//   first seen on or before the find (or is undated); protective links do not count.
// note: trigger is the find; evidence is the find and the adults' links to the place.
// :param adults_of_concern => ["AD001"]
// :param since => date("2026-01-01")
// :param as_of => date("2026-02-01")
MATCH (young_person:YoungPerson)-[found:FOUND_AT]->(place:Location)
WHERE found.first_seen > $since AND found.first_seen <= $as_of
MATCH (adult:Adult)-[presence]->(place)
WHERE adult.id IN $adults_of_concern
  AND NOT coalesce(presence.protective, false)
  AND (presence.first_seen IS NULL OR presence.first_seen <= found.first_seen)
WITH young_person, place, found, collect(DISTINCT adult.id) AS adults,
     collect(presence.link_id) AS presences
RETURN young_person.id AS subject,
       [young_person.id] AS young_people,
       adults,
       [place.id] AS contexts,
       [found.link_id] AS trigger,
       [found.link_id] + presences AS evidence
ORDER BY subject, trigger[0];
