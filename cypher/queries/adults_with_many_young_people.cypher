// name: adults_with_many_young_people
// question: Which adults are directly linked to many different young people, and are those
//   links protective or allegations?
// param: min_young_people integer 1..10000 = 5 — the fewest different young people
// returns: adult_id, suspected, categories, professional, young_people,
//   protective_links, harm_allegations, link_types
// note: a youth worker supporting forty children is a protective hub, not a perpetrator
//   hub: read professional and protective_links beside harm_allegations.
// :param min_young_people => 5
MATCH (adult:Adult)-[r]-(young_person:YoungPerson)
WITH adult,
     count(DISTINCT young_person) AS young_people,
     sum(CASE WHEN coalesce(r.protective, false) OR type(r) = 'SUPPORTS' THEN 1 ELSE 0 END)
       AS protective_links,
     sum(CASE WHEN type(r) = 'ALLEGED_HARM' THEN 1 ELSE 0 END) AS harm_allegations,
     collect(DISTINCT type(r)) AS link_types
WHERE young_people >= $min_young_people
RETURN adult.id AS adult_id,
       coalesce(adult.suspected, false) AS suspected,
       coalesce(adult.category, []) +
         [c IN coalesce(adult.category_derived, []) | c + ' (derived)'] AS categories,
       coalesce(adult.professional, false) AS professional,
       young_people,
       protective_links,
       harm_allegations,
       link_types
ORDER BY young_people DESC, adult_id;
