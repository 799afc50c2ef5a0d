-- pg_temp.clients(account): the account's clients as the tests of real
-- files show them, with their group's name, in internal_id order.
CREATE FUNCTION pg_temp.clients(account bigint)
RETURNS TABLE (internal_id text, first_name text, last_name text, birth_year int,
               gender text, email text, mobile text, diagnosis_code text, client_group text)
LANGUAGE sql AS $$
    SELECT c.internal_id, c.first_name, c.last_name, c.birth_year, c.gender, c.email,
           c.mobile, c.diagnosis_code, g.name
    FROM ptimport.client c LEFT JOIN ptimport.client_group g USING (account_id, group_id)
    WHERE c.account_id = account ORDER BY c.internal_id
$$;
