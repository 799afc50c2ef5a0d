# 003_memory.pl
#   An import's memory is released when it ends, whether it succeeds or
#   fails: a large import leaves the session's memory contexts as they were,
#   and 100 imports in one session (with failed calls and dry runs between
#   them) do not grow the backend.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use PtImportTest;
use Test::More;
use Time::HiRes qw(time usleep);

# Rows in the large file; ptimport.max_rows and max_bytes are raised for it.
my $big_rows = 200_000;

# Rows in each file of the repeated imports: the default ptimport.max_rows.
my $rows = 1000;

# Imports in the measured series; a refused call and a dry run come after
# every tenth.
my $imports = 100;

# Largest growth allowed over the series, in kB: the memory PostgreSQL
# accounts for in its contexts, and the backend's anonymous resident memory
# as the kernel sees it (which includes malloc's own caching).  The memory
# context of one import of $rows rows holds about 500 kB, so leaking it, or
# even a tenth of it, on every import would exceed these many times over.
my $max_context_growth_kb = 64;
my $max_rss_growth_kb = 1024;

# Largest growth of the peak from one large import to the next, in kB: the
# peak is sampled every 20 ms, so it may miss a few MB; the first import's
# memory, if kept, would add about 80 MB.
my $max_peak_growth_kb = 8192;

# The files' first names carry their tag, and every tenth row has an email
# that is not valid (a warning, so each import also writes issue rows).
my $node = start_node('memory', "autovacuum = off\n");
load_files(
	$node,
	a => client_file($rows, 'A'),
	b => client_file($rows, 'B'),
	too_many => client_file($rows + 1, 'A'),
	big => client_file($big_rows, 'A'));

# One import call, a count of its problem rows, as a statement of its own.
sub import_stmt
{
	my ($file, $account, $dry_run) = @_;
	return import_sql($file, $account, 'count(*)', $dry_run) . ";\n";
}

my $bg = $node->background_psql('postgres', on_error_stop => 0);
my ($pid) = bg_query($bg, 'SELECT pg_catalog.pg_backend_pid()');

# The backend's anonymous resident memory (heap and private mappings, not
# shared buffers), in kB.
sub rss_anon_kb
{
	my $status = slurp_file("/proc/$pid/status");
	$status =~ /^RssAnon:\s+(\d+) kB/m or die "no RssAnon in /proc/$pid/status";
	return $1;
}

# All memory the backend's contexts hold, in kB, and how many import
# contexts exist.
sub contexts
{
	my ($out) = bg_query($bg,
		"SELECT pg_catalog.sum(total_bytes) / 1024, pg_catalog.count(*) FILTER (WHERE name = 'ptimport import')"
		  . " FROM pg_catalog.pg_backend_memory_contexts");
	return split /\|/, $out;
}

# ---- A large import gives back what it used ----

# Runs the large import into $account while sampling the backend's memory;
# returns the highest RssAnon seen.
sub large_import
{
	my ($account) = @_;
	my $peak = 0;
	my $deadline = time + $PostgreSQL::Test::Utils::timeout_default;

	$bg->{stderr} = '';
	$bg->query_until(qr/import started/,
		"\\echo import started\n" . import_stmt('big', $account) . "\\echo import ended\n");
	until ($bg->{stdout} =~ /import ended/ or time > $deadline)
	{
		my $rss = rss_anon_kb();
		$peak = $rss if $rss > $peak;
		usleep(20_000);
		$bg->{run}->pump_nb;
	}
	$bg->query_until(qr/import ended/, '');
	like($bg->{stderr},
		qr/imported $big_rows of $big_rows rows: $big_rows inserted/,
		"the large import into account $account succeeds");
	return $peak;
}

# Warm the session's caches with one small import first.
bg_query($bg, import_stmt('a', 1));
bg_query($bg, "SET ptimport.max_rows = 1000000; SET ptimport.max_bytes = '100MB'");
my ($ctx_before) = contexts();
my $rss_before = rss_anon_kb();

my $rss_peak = large_import(2);
my ($ctx_after, $import_cxts) = contexts();
my $rss_after = rss_anon_kb();
diag sprintf("large import: anonymous memory %d kB before, %d kB at peak, %d kB after;"
	  . " memory contexts %d kB before, %d kB after",
	$rss_before, $rss_peak, $rss_after, $ctx_before, $ctx_after);
is($import_cxts, 0, 'no import memory context outlives the import');
cmp_ok($ctx_after - $ctx_before, '<', $max_context_growth_kb,
	"the session's memory contexts are back to their size before the import");

# What the backend holds after an import depends on when malloc returns
# freed memory to the kernel (seen: 5 MB after one import, 31 MB after the
# next), so the second import is compared by its peak: memory kept from the
# first import would add to it.
my $rss_peak2 = large_import(3);
my $rss_after2 = rss_anon_kb();
diag sprintf("second large import: %d kB at peak, %d kB after", $rss_peak2, $rss_after2);
cmp_ok($rss_peak2 - $rss_peak, '<', $max_peak_growth_kb,
	'a second large import peaks no higher than the first');
bg_query($bg, "RESET ptimport.max_rows; RESET ptimport.max_bytes");

# ---- 100 imports in one session ----
#
# The files a and b differ in every name, so each import updates all rows.
# After every tenth import come a call refused for too many rows (an ERROR
# raised once the whole file has been read and validated) and a dry run.

my $series = '';
my $warmup = '';
for my $i (1 .. $imports)
{
	my $calls = import_stmt($i % 2 ? 'b' : 'a', 1);
	$calls .= import_stmt('too_many', 1) . import_stmt('a', 1, 1) if $i % 10 == 0;
	$series .= $calls;
	$warmup .= $calls if $i <= 10;
}

# Ten imports warm malloc and the caches; the next hundred are measured.
my ($out, $err) = bg_query($bg, $warmup);
my ($ctx_start) = contexts();
my $rss_start = rss_anon_kb();
($out, $err) = bg_query($bg, $series);
my ($ctx_end, $import_cxts_end) = contexts();
my $rss_end = rss_anon_kb();

my $updated = () = $err =~ /NOTICE:  imported $rows of $rows rows: 0 inserted, $rows updated/g;
my $refused = () = $err =~ /ERROR:  file has too many rows/g;
my $dry = () = $err =~ /NOTICE:  would import $rows of $rows rows/g;
is($updated, $imports, "$imports imports each updated all $rows rows");
is($refused, $imports / 10, 'every refused call raised its error');
is($dry, $imports / 10, 'every dry run reported');

diag sprintf("%d imports: anonymous memory %d kB -> %d kB; memory contexts %d kB -> %d kB",
	$imports, $rss_start, $rss_end, $ctx_start, $ctx_end);
is($import_cxts_end, 0, 'no import memory context is left after the series');
cmp_ok($ctx_end - $ctx_start, '<', $max_context_growth_kb,
	"the memory contexts grew less than $max_context_growth_kb kB");
cmp_ok($rss_end - $rss_start, '<', $max_rss_growth_kb,
	"the backend's anonymous memory grew less than $max_rss_growth_kb kB");

$bg->quit;
$node->stop;
done_testing();
