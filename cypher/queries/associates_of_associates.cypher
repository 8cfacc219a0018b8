// name: associates_of_associates
// question: Who is two steps from this adult through associates, contacts, family or
//   partners, without a direct link of their own?
// param: adult_id string (required) — the adult's id
// returns: person_id, role, suspected, categories, via_ids, via
// note: person-to-person links only (ASSOCIATES_WITH, CONTACTED, FAMILY_OF, PARTNER_OF);
//   anyone the adult is linked to directly, by any link, is left out.
// note: via counts the adult's direct associates that lead to the person.
// :param adult_id => 'AD074'
MATCH (adult:Adult {id: $adult_id})-[:ASSOCIATES_WITH|CONTACTED|FAMILY_OF|PARTNER_OF]-
      (associate:Person)-[:ASSOCIATES_WITH|CONTACTED|FAMILY_OF|PARTNER_OF]-(person:Person)
WHERE person <> adult AND NOT (adult)--(person)
WITH person, collect(DISTINCT associate.id) AS via_ids
RETURN person.id AS person_id,
       person.role AS role,
       person.suspected AS suspected,
       coalesce(person.category, []) +
         [c IN coalesce(person.category_derived, []) | c + ' (derived)'] AS categories,
       via_ids,
       size(via_ids) AS via
ORDER BY via DESC, role, person_id;
