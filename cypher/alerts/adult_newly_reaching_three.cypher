// name: adult_newly_reaching_three
// question: Which adults newly reach three or more young people?
// param: since date (required) — the adult reached fewer than three young people on this day
// param: as_of date (required) — and three or more on this day
// returns: subject, young_people, adults, contexts, trigger, evidence
// note: reaching is direct contact, association, an intimate relationship or an
//   allegation; family, support and protective links, and professionals, never count.
// note: trigger is the first link to each of the first three young people reached (the
//   alert's identity); evidence every link to every young person reached by $as_of.
// :param since => date("2026-01-01")
// :param as_of => date("2026-02-01")
MATCH (adult:Adult)-[link:ALLEGED_HARM|CONTACTED|ASSOCIATES_WITH|PARTNER_OF]-(young_person:YoungPerson)
WHERE NOT coalesce(adult.professional, false)
  AND NOT coalesce(link.protective, false)
  AND (link.first_seen IS NULL OR link.first_seen <= $as_of)
WITH adult, young_person, collect(link) AS links,
     min(coalesce(link.first_seen, date("0001-01-01"))) AS first
WITH adult, young_person, links, first
ORDER BY first, young_person.id
WITH adult, collect({young_person: young_person.id, first: first, links: links}) AS reached
WHERE size(reached) >= 3 AND size([r IN reached WHERE r.first <= $since]) < 3
RETURN adult.id AS subject,
       [r IN reached | r.young_person] AS young_people,
       [adult.id] AS adults,
       [] AS contexts,
       reduce(ids = [], r IN reached[0..3] |
              ids + [l IN r.links WHERE coalesce(l.first_seen, date("0001-01-01")) = r.first | l.link_id]) AS trigger,
       reduce(ids = [], r IN reached | ids + [l IN r.links | l.link_id]) AS evidence
ORDER BY subject;
