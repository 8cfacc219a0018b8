// name: young_person_newly_linked_to_adult_of_concern
// question: Which young people were linked for the first time to an adult of concern?
// param: adults_of_concern list<string> (required) — ids of the adults of concern (the analysis decides)
// param: since date (required) — links first seen after this day are new
// param: as_of date (required) — the picture as it stood on this day
// returns: subject, young_people, adults, contexts, trigger, evidence
// note: a link is contact, association, an intimate relationship or an allegation;
//   family, support and protective links never raise this alert. A pair already
//   linked (by any link) on or before $since is not newly linked.
// note: trigger is the pair's first new links (the alert's identity); evidence all of them.
// :param adults_of_concern => ["AD001"]
// :param since => date("2026-01-01")
// :param as_of => date("2026-02-01")
MATCH (adult:Adult)-[link:ALLEGED_HARM|CONTACTED|ASSOCIATES_WITH|PARTNER_OF]-(young_person:YoungPerson)
WHERE adult.id IN $adults_of_concern
  AND NOT coalesce(link.protective, false)
  AND link.first_seen > $since AND link.first_seen <= $as_of
WITH adult, young_person, collect(link) AS links, min(link.first_seen) AS first
WHERE NOT EXISTS {
  MATCH (adult)-[earlier]-(young_person)
  WHERE earlier.first_seen IS NULL OR earlier.first_seen <= $since
}
RETURN young_person.id AS subject,
       [young_person.id] AS young_people,
       [adult.id] AS adults,
       [] AS contexts,
       [l IN links WHERE l.first_seen = first | l.link_id] AS trigger,
       [l IN links | l.link_id] AS evidence
ORDER BY subject, adults[0];
