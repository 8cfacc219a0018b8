// name: young_people_near_adult
// question: Which young people are linked to this adult within a few steps, and how?
// param: adult_id string (required) — the adult's id
// param: max_steps integer 1..4 = 2 — how many links away to look (1 to 4)
// returns: young_person_id, steps, direct_link_types, path_ids, path_types, gradings,
//   categories
// note: one shortest chain of links per young person; path_ids run from the adult to the
//   young person and path_types and gradings give each link of that chain in order.
// note: Cypher cannot take a path length as a parameter, so the pattern is capped at 4
//   steps and filtered to max_steps.
// note: direct_link_types lists every link recorded directly between the two (empty when
//   they are not directly linked).
// note: a chain through a school or a youth worker is a link too: read path_types.
// :param adult_id => 'AD074'
// :param max_steps => 2
MATCH (adult:Adult {id: $adult_id})
MATCH (young_person:YoungPerson)
MATCH chain = shortestPath((adult)-[*..4]-(young_person))
WITH adult, young_person, chain
WHERE length(chain) <= $max_steps
RETURN young_person.id AS young_person_id,
       length(chain) AS steps,
       [(young_person)-[direct]-(adult) | type(direct)] AS direct_link_types,
       [n IN nodes(chain) | n.id] AS path_ids,
       [r IN relationships(chain) | type(r)] AS path_types,
       [r IN relationships(chain) |
         coalesce(r.source_grade, '-') + '/' + coalesce(r.intel_grade, '-') + '/' +
         coalesce(r.handling, '-')] AS gradings,
       coalesce(young_person.category, []) +
         [c IN coalesce(young_person.category_derived, []) | c + ' (derived)'] AS categories
ORDER BY steps, young_person_id;
