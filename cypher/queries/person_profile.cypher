// name: person_profile
// question: Who is this person on our records: role, age, area, care and missing history,
//   flags, and how many links of each type they have?
// param: person_id string (required) — the id of a young person or an adult (a
//   young person's: their pseudonym, YP-…)
// returns: person_id, role, name, age, area, looked_after, placement_area,
//   missing_episodes, excluded_from_school, suspected, categories, professional, links,
//   link_types
// note: name is returned for adults only (the liaison acts on adults); a young person is
//   known here by their pseudonym alone (YP-…): the graph holds no child's name.
// note: age is in whole years today, from the recorded date of birth; for a young person,
//   whose date of birth the graph does not hold, the age they reach this year.
// :param person_id => 'AD097'
MATCH (person:Person {id: $person_id})
OPTIONAL MATCH (person)-[r]-(:Entity)
WITH person, type(r) AS link_type, count(r) AS n
ORDER BY link_type
WITH person, sum(n) AS links,
     collect(CASE WHEN link_type IS NULL THEN null ELSE link_type + ' ' + toString(n) END)
       AS link_types
RETURN person.id AS person_id,
       person.role AS role,
       CASE WHEN person:Adult THEN person.name END AS name,
       CASE WHEN person.date_of_birth IS NOT NULL
              THEN duration.between(person.date_of_birth, date()).years
            WHEN person.birth_year IS NOT NULL THEN date().year - person.birth_year
       END AS age,
       person.area AS area,
       person.looked_after AS looked_after,
       person.placement_area AS placement_area,
       person.missing_episodes AS missing_episodes,
       person.excluded_from_school AS excluded_from_school,
       person.suspected AS suspected,
       coalesce(person.category, []) +
         [c IN coalesce(person.category_derived, []) | c + ' (derived)'] AS categories,
       person.professional AS professional,
       links,
       link_types;
