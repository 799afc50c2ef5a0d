# PtImportTest.pm
#   What the TAP tests in test/t share: the client files they import, a
#   UTF-8 cluster with ptimport and the files loaded, the SQL of an import
#   and of its outcome, helpers for BackgroundPsql sessions, and the
#   comparisons of catalogs and table contents that the upgrade, dump and
#   replica tests make.
package PtImportTest;

use strict;
use warnings;

use Encode qw(encode);
use Exporter 'import';
use File::Basename qw(dirname);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);

our @EXPORT = qw(client_file small_file start_node load_files written
  import_sql psql_ok bg_query bg_safe wait_until sql_bytes sql_text
  catalog catalogs_equal table_columns table_rows rows_equal);

# The catalog query, next to this module.
my $catalog_sql = dirname(__FILE__) . '/catalog.sql';

# A deterministic client file of $n valid rows in 20 groups; with $tag the
# first names carry it and every tenth row's email is invalid (a warning).
sub client_file
{
	my ($n, $tag) = @_;
	my $csv = '';

	for my $i (1 .. $n)
	{
		my $email =
		  defined $tag && $i % 10 == 0 ? 'not-an-email' : "p$i\@example.org";
		$csv .= sprintf("P%07d,First%s%d,Last%d,%d,%s,%s,0041%09d,F%02d,Group %d\n",
			$i, $tag // '', $i, $i, 1940 + $i % 80, $i % 2 ? 'm' : 'f',
			$email, $i, $i % 100, $i % 20 + 1);
	}
	return $csv;
}

# Three rows, one with an invalid gender: 2 imported, 1 skipped.
sub small_file
{
	return "S1,Ann,Smith,1980,f,,,,Team A\n"
	  . "S2,Bob,Jones,1975,m,,,,team a\n"
	  . "S3,Cy,Brown,1990,x,,,,Team A\n";
}

# Creates and starts a UTF-8 cluster named $name with the lines $conf added
# to its postgresql.conf, and returns it.
sub start_node
{
	my ($name, $conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);

	$node->init(extra => [ '--encoding=UTF8', '--locale=C.UTF-8' ]);
	$node->append_conf('postgresql.conf', $conf);
	$node->start;
	return $node;
}

# Creates ptimport and public.test_file in $node and loads each of %files
# (name => contents) into it; the server reads them from disk, so no large
# literal goes through psql.
sub load_files
{
	my ($node, %files) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir;
	my @rows;

	for my $name (sort keys %files)
	{
		PostgreSQL::Test::Utils::append_to_file("$dir/$name.csv", $files{$name});
		push @rows, "('$name', pg_catalog.pg_read_binary_file('$dir/$name.csv'))";
	}
	$node->safe_psql('postgres',
		"CREATE EXTENSION ptimport;\n"
		  . "CREATE TABLE public.test_file (name text PRIMARY KEY, data bytea NOT NULL);\n"
		  . "INSERT INTO public.test_file VALUES "
		  . join(",\n\t", @rows) . ";\n");
	return;
}

# Everything the import wrote in $node for one account, as
# "clients|groups|runs|issues".
sub written
{
	my ($node, $account) = @_;
	return $node->safe_psql(
		'postgres', qq{
SELECT (SELECT count(*) FROM ptimport.client WHERE account_id = $account),
	   (SELECT count(*) FROM ptimport.client_group WHERE account_id = $account),
	   (SELECT count(*) FROM ptimport.import_run WHERE account_id = $account),
	   (SELECT count(*) FROM ptimport.import_issue WHERE account_id = $account)});
}

# A query selecting $columns from the import of the loaded file $file into
# $account, as a dry run if $dry_run is true.
sub import_sql
{
	my ($file, $account, $columns, $dry_run) = @_;
	my $dry = $dry_run ? ', true' : '';

	return "SELECT $columns FROM ptimport.pt_import_clients("
	  . "(SELECT data FROM public.test_file WHERE name = '$file'), $account$dry)";
}

# Runs $sql in database $db of $node as $role (default: the superuser),
# stopping at the first error; dies if it fails, else returns stdout and
# stderr.
sub psql_ok
{
	my ($node, $db, $sql, $role) = @_;
	my ($ret, $out, $err) = $node->psql($db, $sql, on_error_stop => 1,
		extra_params => [ defined $role ? ('-U', $role) : () ]);
	die "query failed: $err\n$sql" if $ret != 0;
	return ($out, $err);
}

# A Perl string as SQL: a bytea literal of its UTF-8 bytes, or that decoded
# as text.  No byte outside ASCII goes through psql, whatever its encoding.
sub sql_bytes
{
	my ($s) = @_;
	return "'\\x" . unpack('H*', encode('UTF-8', $s)) . "'::pg_catalog.bytea";
}

sub sql_text
{
	my ($s) = @_;
	return 'pg_catalog.convert_from(' . sql_bytes($s) . ", 'UTF8')";
}

# Runs $sql in a background session; returns stdout, stderr and seconds.
# BackgroundPsql keeps stderr across queries, so it is emptied first.
sub bg_query
{
	my ($bg, $sql) = @_;
	$bg->{stderr} = '';
	my $start = time;
	my $out = $bg->query($sql);
	return ($out, $bg->{stderr}, time - $start);
}

# Runs $sql in a background session and dies if it fails.
sub bg_safe
{
	my ($bg, $sql) = @_;
	$bg->{stderr} = '';
	return $bg->query_safe($sql);
}

# Runs $sql in the background session $bg every 10 ms until it returns true;
# returns 1 then, or 0 after the default timeout.
sub wait_until
{
	my ($bg, $sql) = @_;
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;

	while (time < $deadline)
	{
		return 1 if bg_safe($bg, $sql) eq 't';
		usleep(10_000);
	}
	return 0;
}

# ---- Comparing databases ----

# Everything the catalog says about ptimport in database $db of $node, as
# the sorted lines of test/t/catalog.sql.
sub catalog
{
	my ($node, $db) = @_;
	return [ split /\n/, $node->safe_psql($db, slurp_file($catalog_sql)) ];
}

# Passes when the catalogs $got and $want (from catalog()) are equal; when
# they are not, shows the lines only one of them has.
sub catalogs_equal
{
	my ($got, $want, $name) = @_;
	my %in_got = map { $_ => 1 } @$got;
	my %in_want = map { $_ => 1 } @$want;
	my @missing = grep { !$in_got{$_} } @$want;
	my @extra = grep { !$in_want{$_} } @$got;

	my $ok = ok(@$got > 0 && !@missing && !@extra, $name);
	diag(join("\n", 'only in the expected catalog:', map { "  $_" } @missing)) if @missing;
	diag(join("\n", 'only in the catalog checked:', map { "  $_" } @extra)) if @extra;
	return $ok;
}

# The columns of every table in schema ptimport of database $db, as
# { table => [ column, ... ] } with quoted names, in column order.
sub table_columns
{
	my ($node, $db) = @_;
	my %columns;

	for my $line (split /\n/, $node->safe_psql($db, q{
SELECT pg_catalog.quote_ident(c.relname),
	   pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ',' ORDER BY a.attnum)
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'ptimport'::pg_catalog.regnamespace AND c.relkind IN ('r', 'p')
GROUP BY c.relname}))
	{
		my ($table, $list) = split /\|/, $line;
		$columns{$table} = [ split /,/, $list ];
	}
	return \%columns;
}

# Every row of every table in schema ptimport of database $db, as
# { table => [ row, ... ] }, each row a hash of column => value (JSON
# values), sorted.  With $columns ({ table => [ column, ... ] }, as from
# table_columns), only those tables and columns are read.
sub table_rows
{
	my ($node, $db, $columns) = @_;
	my $json = JSON::PP->new->canonical;
	my %rows;

	$columns //= table_columns($node, $db);
	for my $table (sort keys %$columns)
	{
		my $list = join ', ', @{ $columns->{$table} };
		my $out = $node->safe_psql($db,
			"SELECT pg_catalog.to_jsonb(r)::text FROM (SELECT $list FROM ptimport.$table) AS r");
		$rows{$table} =
		  [ map { $json->decode($_) } split /\n/, $out ];
	}
	return \%rows;
}

# Passes when the tables' rows $got and $want (from table_rows) are the
# same, whatever their order; when they are not, shows per table the rows
# only one of them has.
sub rows_equal
{
	my ($got, $want, $name) = @_;
	my $json = JSON::PP->new->canonical;
	my @diffs;

	for my $table (sort keys %{ { %$got, %$want } })
	{
		my %count;
		$count{ $json->encode($_) }++ for @{ $want->{$table} // [] };
		$count{ $json->encode($_) }-- for @{ $got->{$table} // [] };
		for my $row (sort keys %count)
		{
			next if $count{$row} == 0;
			push @diffs, sprintf('%s: %s %s', $table,
				$count{$row} > 0 ? 'missing' : 'unexpected', $row);
		}
		push @diffs, "$table: not in the rows checked" unless exists $got->{$table};
		push @diffs, "$table: not expected" unless exists $want->{$table};
	}
	my $ok = ok(!@diffs, $name);
	diag(join("\n", @diffs)) if @diffs;
	return $ok;
}

1;
