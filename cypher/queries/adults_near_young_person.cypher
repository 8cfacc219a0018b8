// name: adults_near_young_person
// question: Which adults are linked to this young person within a few steps, and how?
// param: young_person_id string (required) — the young person's pseudonym (YP-…), as
//   graphguard's target lists and packs name them: the graph holds no child's id
// param: max_steps integer 1..4 = 2 — how many links away to look (1 to 4)
// returns: adult_id, suspected, categories, professional, steps, direct_link_types,
//   path_ids, path_types, gradings
// note: one shortest chain of links per adult, from the young person to the adult;
//   professionals and family are included, so read professional and path_types.
// note: direct_link_types lists every link recorded directly between the two (empty when
//   they are not directly linked).
// note: the pattern is capped at 4 steps and filtered to max_steps.
// note: the example is the demo's young person of that id; in Neo4j they are its
//   pseudonym, keyed by the loading state home's pseudonym.key.
// :param young_person_id => 'YP028'
// :param max_steps => 2
MATCH (young_person:YoungPerson {id: $young_person_id})
MATCH (adult:Adult)
MATCH chain = shortestPath((young_person)-[*..4]-(adult))
WITH adult, young_person, chain
WHERE length(chain) <= $max_steps
RETURN adult.id AS adult_id,
       coalesce(adult.suspected, false) AS suspected,
       coalesce(adult.category, []) +
         [c IN coalesce(adult.category_derived, []) | c + ' (derived)'] AS categories,
       coalesce(adult.professional, false) AS professional,
       length(chain) AS steps,
       [(young_person)-[direct]-(adult) | type(direct)] AS direct_link_types,
       [n IN nodes(chain) | n.id] AS path_ids,
       [r IN relationships(chain) | type(r)] AS path_types,
       [r IN relationships(chain) |
         coalesce(r.source_grade, '-') + '/' + coalesce(r.intel_grade, '-') + '/' +
         coalesce(r.handling, '-')] AS gradings
ORDER BY steps, suspected DESC, adult_id;
