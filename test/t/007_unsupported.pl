# 007_unsupported.pl
#   Setups ptimport refuses at install time.  A SQL_ASCII database: CREATE
#   EXTENSION ptimport fails with ptimport's own message, before anything
#   else runs (the install script, made from 1.0's and the update, begins
#   with the check), and leaves nothing behind.  VERSION '1.0' fails too,
#   at 1.0's first ICU collation.  (A server without ICU and PostgreSQL
#   before 15 are refused when the library is compiled, by #error in
#   src/ptimport.h.)
use strict;
use warnings;

use PtImportTest;
use Test::More;

my $node = start_node('unsupported', '');
$node->safe_psql('postgres',
	"CREATE DATABASE ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");

for my $version ('', " VERSION '1.0'")
{
	my ($ret, $out, $err) = $node->psql('ascii', "CREATE EXTENSION ptimport$version");
	isnt($ret, 0, "CREATE EXTENSION ptimport$version fails in a SQL_ASCII database");
	is( $node->safe_psql('ascii',
			"SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = 'ptimport'"),
		'0', '... and leaves no schema behind');
	if ($version)
	{
		like($err,
			qr/ERROR:  collation "pg_catalog.und-x-icu" for encoding "SQL_ASCII" does not exist/,
			'... at the first ICU collation of ptimport--1.0.sql');
		next;
	}
	like($err, qr/ERROR:  ptimport cannot be used in a SQL_ASCII database/,
		"... with ptimport's message");
	like($err, qr/HINT:  Create the database with ENCODING 'UTF8'\./, '... and what to do');
}

$node->stop;
done_testing();
