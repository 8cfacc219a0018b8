// name: allegations
// question: What allegations of harm are recorded (against one adult, or all), with their
//   source, date and grading?
// param: adult_id string = null — only allegations against this adult (null: all)
// returns: adult_id, suspected, adult_categories, young_person_id,
//   young_person_categories, first_seen, last_seen, agency, reference, grading, notes
// note: an allegation is not a finding; a 3 or an E grading (a source not reliable, or
//   intelligence suspected to be false) counts for little.
// :param adult_id => null
MATCH (adult:Adult)-[harm:ALLEGED_HARM]->(young_person:YoungPerson)
WHERE $adult_id IS NULL OR adult.id = $adult_id
RETURN adult.id AS adult_id,
       coalesce(adult.suspected, false) AS suspected,
       coalesce(adult.category, []) +
         [c IN coalesce(adult.category_derived, []) | c + ' (derived)'] AS adult_categories,
       young_person.id AS young_person_id,
       coalesce(young_person.category, []) +
         [c IN coalesce(young_person.category_derived, []) | c + ' (derived)'] AS young_person_categories,
       harm.first_seen AS first_seen,
       harm.last_seen AS last_seen,
       harm.agency AS agency,
       harm.reference AS reference,
       coalesce(harm.source_grade, '-') + '/' + coalesce(harm.intel_grade, '-') + '/' +
         coalesce(harm.handling, '-') AS grading,
       harm.notes AS notes
ORDER BY adult_id, coalesce(harm.last_seen, harm.first_seen) DESC, young_person_id;
