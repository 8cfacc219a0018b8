// name: records_behind_entity
// question: Which agency records is this person, place or vehicle made from: each record's
//   source and agency, what that record says, and how many of the entity's links it brought?
// param: entity_id string (required) — the id of a young person, adult, location or vehicle (a
//   young person's: their pseudonym, YP-…)
// returns: entity_id, record_id, source, agency, extracted_on, record, identity_recorded,
//   links
// note: agency extracts (input format v2) give one row per source record resolved to the
//   entity (record_id is source:local_id); record is the record's own node, its attributes
//   as that source recorded them, so where records disagree (two dates of birth, two
//   spellings) each row shows its own. A dataset of one joined namespace (v1) gives one
//   row: the entity is its own record, source is null.
// note: a young person's record holds no identifying value in Neo4j: identity_recorded
//   names the identifying attributes its source recorded (name, date of birth,
//   identifiers), which graphguard keeps out of the graph.
// note: links counts the entity's links whose end, as the agency wrote it, is this record.
// :param entity_id => 'AD097'
MATCH (entity:Entity {id: $entity_id})
OPTIONAL MATCH (record:Record)-->(entity)
OPTIONAL MATCH (source:Source {name: record.source})
// The properties only v2 records write are read by key from properties(): a v1 database
// has never held them, and reading them as properties makes Neo4j add a notice for each.
RETURN entity.id AS entity_id,
       coalesce(record.record_id, entity.id) AS record_id,
       record.source AS source,
       source.agency AS agency,
       properties(source)['extracted_on'] AS extracted_on,
       coalesce(record, entity) AS record,
       coalesce(properties(record)['identity_recorded'], []) AS identity_recorded,
       CASE WHEN record IS NULL THEN COUNT { (entity)-[]-(:Entity) }
            ELSE COUNT { (entity)-[r]-(:Entity)
                         WHERE properties(r)['source_record'] = record.record_id
                            OR properties(r)['target_record'] = record.record_id } END AS links
ORDER BY record_id;
