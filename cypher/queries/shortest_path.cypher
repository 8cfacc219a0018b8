// name: shortest_path
// question: What is the shortest chain of links between two people, places or vehicles?
// param: from_id string (required) — the id at one end
// param: to_id string (required) — the id at the other end
// param: max_steps integer 1..8 = 6 — the longest chain worth showing (1 to 8)
// returns: steps, path_ids, path_types, gradings, path
// note: path is the chain itself for the graph view: its nodes carry their recorded
//   properties, names included; share path_ids, not path.
// note: the pattern is capped at 8 steps and filtered to max_steps; no row means no chain
//   that short.
// :param from_id => 'AD105'
// :param to_id => 'LOC041'
// :param max_steps => 6
MATCH (start:Entity {id: $from_id}), (finish:Entity {id: $to_id})
MATCH chain = shortestPath((start)-[*..8]-(finish))
WITH chain
WHERE length(chain) <= $max_steps
RETURN length(chain) AS steps,
       [n IN nodes(chain) | n.id] AS path_ids,
       [r IN relationships(chain) | type(r)] AS path_types,
       [r IN relationships(chain) |
         coalesce(r.source_grade, '-') + '/' + coalesce(r.intel_grade, '-') + '/' +
         coalesce(r.handling, '-')] AS gradings,
       chain AS path;
