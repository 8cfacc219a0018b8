// name: found_after_missing
// question: Where have young people been found after going missing, and how many of them?
// param: since date = null — only finds on or after this day (null: all)
// returns: location_id, location_name, location_kind, area, young_people, young_person_ids,
//   finds, first_found, last_found
// note: finds counts FOUND_AT records (a record's count stands for several finds).
// :param since => null
MATCH (young_person:YoungPerson)-[found:FOUND_AT]->(place:Location)
WHERE $since IS NULL OR coalesce(found.last_seen, found.first_seen) >= $since
WITH place,
     collect(DISTINCT young_person.id) AS young_person_ids,
     sum(coalesce(found.count, 1)) AS finds,
     min(found.first_seen) AS first_found,
     max(coalesce(found.last_seen, found.first_seen)) AS last_found
RETURN place.id AS location_id,
       place.name AS location_name,
       place.location_kind AS location_kind,
       place.area AS area,
       size(young_person_ids) AS young_people,
       young_person_ids,
       finds,
       first_found,
       last_found
ORDER BY young_people DESC, finds DESC, location_id;
