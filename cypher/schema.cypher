// graphguard schema for Neo4j 5.26: applied idempotently by `graphguard load`.
// Every entity carries the label Entity as well as its own, so one uniqueness
// constraint enforces the input format's rule of one namespace of ids.
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT person_id IF NOT EXISTS FOR (n:Person) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT location_id IF NOT EXISTS FOR (n:Location) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT vehicle_id IF NOT EXISTS FOR (n:Vehicle) REQUIRE n.id IS UNIQUE;
// Version 2: one node per source record, keyed by its qualified id (source:local_id),
// resolved to its entity by one RESOLVED_TO relationship; one node per source.
CREATE CONSTRAINT record_id IF NOT EXISTS FOR (n:Record) REQUIRE n.record_id IS UNIQUE;
CREATE CONSTRAINT source_name IF NOT EXISTS FOR (n:Source) REQUIRE n.name IS UNIQUE;
// One relationship per source record: link_id is unique within each type.
// Neo4j 5 Community has no constraint across types: the loader keeps one link_id
// namespace across all types under the load lock, whose own constraint
// (graphguard_lock_name) the lock creates (docs/loading.md).
CREATE CONSTRAINT associates_with_link_id IF NOT EXISTS FOR ()-[r:ASSOCIATES_WITH]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT family_of_link_id IF NOT EXISTS FOR ()-[r:FAMILY_OF]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT partner_of_link_id IF NOT EXISTS FOR ()-[r:PARTNER_OF]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT contacted_link_id IF NOT EXISTS FOR ()-[r:CONTACTED]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT alleged_harm_link_id IF NOT EXISTS FOR ()-[r:ALLEGED_HARM]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT supports_link_id IF NOT EXISTS FOR ()-[r:SUPPORTS]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT lives_at_link_id IF NOT EXISTS FOR ()-[r:LIVES_AT]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT attends_link_id IF NOT EXISTS FOR ()-[r:ATTENDS]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT placed_at_link_id IF NOT EXISTS FOR ()-[r:PLACED_AT]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT works_at_link_id IF NOT EXISTS FOR ()-[r:WORKS_AT]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT seen_at_link_id IF NOT EXISTS FOR ()-[r:SEEN_AT]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT found_at_link_id IF NOT EXISTS FOR ()-[r:FOUND_AT]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT drives_link_id IF NOT EXISTS FOR ()-[r:DRIVES]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT keeper_of_link_id IF NOT EXISTS FOR ()-[r:KEEPER_OF]-() REQUIRE r.link_id IS UNIQUE;
CREATE CONSTRAINT passenger_in_link_id IF NOT EXISTS FOR ()-[r:PASSENGER_IN]-() REQUIRE r.link_id IS UNIQUE;
// Indexes the liaison queries filter on.
CREATE INDEX person_role IF NOT EXISTS FOR (n:Person) ON (n.role);
CREATE INDEX person_suspected IF NOT EXISTS FOR (n:Person) ON (n.suspected);
CREATE INDEX entity_area IF NOT EXISTS FOR (n:Entity) ON (n.area);
CREATE INDEX record_source IF NOT EXISTS FOR (n:Record) ON (n.source);
CREATE INDEX location_kind IF NOT EXISTS FOR (n:Location) ON (n.location_kind);
CREATE INDEX seen_at_first_seen IF NOT EXISTS FOR ()-[r:SEEN_AT]-() ON (r.first_seen);
CREATE INDEX found_at_first_seen IF NOT EXISTS FOR ()-[r:FOUND_AT]-() ON (r.first_seen);
CREATE INDEX alleged_harm_first_seen IF NOT EXISTS FOR ()-[r:ALLEGED_HARM]-() ON (r.first_seen);
