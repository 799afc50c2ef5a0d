# 001_cancel.pl
#   Cancelling a large import: a statement_timeout that fires while the file
#   is being parsed and a pg_cancel_backend that lands while the rows are
#   being written both stop the import at once with SQLSTATE 57014, leave no
#   client, group, run or issue row behind, and leave the session usable.
use strict;
use warnings;

use PtImportTest;
use Test::More;
use Time::HiRes qw(time);

# Rows in the large file; ptimport.max_rows and max_bytes are raised for it.
my $big_rows = 200_000;

# Bound, in seconds, on the time from the cancel to the error: the promise
# is "within a second".  The reader checks for interrupts every 256 kB and
# the executor for every row, so the delay is normally 5 to 100 ms; the
# bound leaves room for a loaded machine.
my $cancel_bound = 1;

# Growth of the session's memory contexts, in kB, that still counts as
# "released": the import itself allocates tens of megabytes.
my $max_context_growth_kb = 64;

# Accounts: the cancelled imports and the small follow-up imports.
my $big_account = 2;
my $small_account = 9;

my $node = start_node(
	'cancel', qq{
ptimport.max_rows = 1000000
ptimport.max_bytes = '100MB'
autovacuum = off
});
load_files($node, big => client_file($big_rows), small => small_file());

# What the imports below return: their problem rows.
my $columns = 'line_no, internal_id, code';

# The session every import and cancel below happens in.  VERBOSITY verbose
# makes psql print the SQLSTATE of each message.
my $bg = $node->background_psql('postgres', on_error_stop => 0);
bg_safe($bg, '\set VERBOSITY verbose');
my $pid = bg_safe($bg, 'SELECT pg_catalog.pg_backend_pid()');

# A second session watches the first and cancels it.
my $ctl = $node->background_psql('postgres');

# All memory the session's contexts hold, in kB.
sub context_kb
{
	return bg_safe($bg,
		'SELECT pg_catalog.sum(total_bytes) / 1024 FROM pg_catalog.pg_backend_memory_contexts');
}

# Checks that the session's next call is an ordinary import: the small file,
# whose expected outcome is $notice.
sub next_import_works
{
	my ($label, $notice) = @_;
	my ($out, $err) = bg_query($bg, import_sql('small', $small_account, $columns));
	is($out, "3|S3|invalid_gender", "$label: the next import returns its problem row");
	like($err, qr/NOTICE:  00000: \Q$notice\E/,
		"$label: the next import reports its summary");
	unlike($err, qr/ERROR/, "$label: the next import raises no error");
}

# ---- A statement_timeout that fires while the file is parsed ----
#
# With ptimport.max_rows one below the file's row count the import parses
# and validates every row and then refuses the file (54000): it never gets
# to writing.  So if a statement_timeout makes the same call end with 57014
# instead, the interrupt was serviced while decoding or parsing.

bg_safe($bg, "SET ptimport.max_rows = " . ($big_rows - 1));
my ($out, $err, $parse_secs) = bg_query($bg, import_sql('big', $big_account, $columns));
like($err, qr/ERROR:  54000: file has too many rows/,
	'without a timeout the file is parsed to the end and refused');
diag sprintf("parsing %d rows takes %.3f s", $big_rows, $parse_secs);

# The timeout fires a quarter of the way into the parse.
my $timeout_ms = int($parse_secs * 1000 / 4);
cmp_ok($timeout_ms, '>=', 20, 'parsing the file takes long enough to be interrupted');
bg_safe($bg, "SET statement_timeout = $timeout_ms");
($out, $err, my $secs) = bg_query($bg, import_sql('big', $big_account, $columns));
bg_safe($bg, 'RESET statement_timeout');
bg_safe($bg, 'RESET ptimport.max_rows');
like($err, qr/ERROR:  57014: canceling statement due to statement timeout/,
	'a statement_timeout during parsing cancels the import (57014)');
my $parse_delay = $secs - $timeout_ms / 1000;
diag sprintf("statement_timeout %d ms, import ended after %.3f s: %.3f s after the timeout",
	$timeout_ms, $secs, $parse_delay);
cmp_ok($parse_delay, '<', $cancel_bound,
	"the import stopped within $cancel_bound s of the timeout");
is(written($node, $big_account), '0|0|0|0',
	'the import cancelled while parsing wrote no client, group, run or issue');
next_import_works('after a timeout while parsing',
	'imported 2 of 3 rows: 2 inserted, 0 updated, 0 unchanged; 1 row skipped; 1 group created');

# ---- A pg_cancel_backend that lands while the rows are written ----
#
# The client table's file grows only while the upsert inserts rows, so once
# the control session sees it grow by a megabyte the import is in the middle
# of writing.  The control session also sends the cancel, so that the time
# measured is not that of starting a psql.

my $size_sql = "SELECT pg_catalog.pg_relation_size('ptimport.client')";
my $base_size = bg_safe($ctl, $size_sql);
my $context_before = context_kb();
$bg->{stderr} = '';
$bg->query_until(qr/import started/,
	"\\echo import started\n"
	  . import_sql('big', $big_account, $columns)
	  . ";\n\\echo import ended\n");
my $write_start = time;
ok(wait_until($ctl, "$size_sql > $base_size + 1024 * 1024"),
	'the import starts writing client rows');
my $grown = bg_safe($ctl, "$size_sql - $base_size");
my $cancel_at = time;
is(bg_safe($ctl, "SELECT pg_catalog.pg_cancel_backend($pid)"),
	't', 'the import is cancelled while it writes');
$bg->query_until(qr/import ended/, '');
my $write_delay = time - $cancel_at;
like($bg->{stderr}, qr/ERROR:  57014: canceling statement due to user request/,
	'a cancel while writing stops the import (57014)');
diag sprintf("cancelled %.3f s into the import, with %d kB of client rows written;"
	  . " the error came %.3f s after the cancel",
	$cancel_at - $write_start, $grown / 1024, $write_delay);
cmp_ok($write_delay, '<', $cancel_bound,
	"the import stopped within $cancel_bound s of the cancel");
is(written($node, $big_account), '0|0|0|0',
	'the import cancelled while writing left no client, group, run or issue');
is(bg_safe($ctl, "SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = 'advisory'"),
	'0', 'the cancelled import holds no advisory lock');
my $context_after = context_kb();
diag sprintf("session memory contexts: %d kB before the cancelled import, %d kB after",
	$context_before, $context_after);
cmp_ok($context_after - $context_before, '<', $max_context_growth_kb,
	"the cancelled import's memory was released");
next_import_works('after a cancel while writing',
	'imported 2 of 3 rows: 0 inserted, 0 updated, 2 unchanged; 1 row skipped; 0 groups created');

# ---- The same file, not cancelled, imports whole ----
($out, $err, $secs) = bg_query($bg, import_sql('big', $big_account, $columns));
like($err, qr/NOTICE:  00000: imported $big_rows of $big_rows rows: $big_rows inserted, 0 updated, 0 unchanged; 0 rows skipped; 20 groups created/,
	'the file imports whole when it is not cancelled');
diag sprintf("the whole import of %d rows takes %.3f s", $big_rows, $secs);
is(written($node, $big_account), "$big_rows|20|1|0",
	'the uncancelled import wrote every client, group and its run');

$bg->quit;
$ctl->quit;
$node->stop;
done_testing();
