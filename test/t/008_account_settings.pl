# 008_account_settings.pl
#   The routes to ptimport.account_id that only a new connection takes: a
#   setting stored on the role (ALTER ROLE ... SET) and a connection option
#   (PGOPTIONS).  An application role
#   granted account 901 only (grant_app, grant_account) that logs in with
#   902 chosen either way reaches nothing of account 902: its views and
#   functions refuse with insufficient_privilege, and account 901, chosen
#   by the same routes, works.  (SET and set_config() inside a session are
#   tested in sql/privileges.sql.)
use strict;
use warnings;

use PtImportTest;
use Test::More;

my $node = start_node('settings', '');
$node->safe_psql(
	'postgres', q{
CREATE EXTENSION ptimport;
CREATE ROLE regress_app LOGIN;
SELECT ptimport.grant_app('regress_app');
SELECT ptimport.grant_account('regress_app', 901);
SET client_min_messages = warning;
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('A1,Ann,Lee,1980,f', 'UTF8'), 901);
SELECT count(*) FROM ptimport.pt_import_clients(convert_to('B1,Bob,Lee,1980,m', 'UTF8'), 902);
});

my $read_902 = 'SELECT count(*) FROM ptimport.account_clients';
my $import = q{SELECT count(*) FROM ptimport.pt_import_clients(convert_to('B2,Bea,Lee,1980,f', 'UTF8'))};

# psql as the role, with extra environment; returns (status, stdout, stderr).
sub as_app
{
	my ($sql, %env) = @_;
	local %ENV = (%ENV, %env);
	my ($stdout, $stderr);
	my $ret = $node->psql('postgres', $sql,
		stdout => \$stdout, stderr => \$stderr,
		extra_params => [ '-U', 'regress_app', '-v', 'VERBOSITY=verbose' ]);
	return ($ret, $stdout, $stderr);
}

# A connection option chooses account 902.
my ($ret, $out, $err) = as_app($read_902, PGOPTIONS => '-c ptimport.account_id=902');
isnt($ret, 0, 'PGOPTIONS: reading account 902 fails');
like($err, qr/ERROR:  42501: role "regress_app" may not act for account 902/,
	'... with insufficient_privilege');
($ret, $out, $err) = as_app($import, PGOPTIONS => '-c ptimport.account_id=902');
like($err, qr/ERROR:  42501: role "regress_app" may not act for account 902/,
	'PGOPTIONS: importing into account 902 fails the same way');

# A setting stored on the role: the role cannot store one itself (since
# PostgreSQL 15 a non-superuser may not ALTER ROLE ... SET a parameter of a
# library its session has not loaded) ...
($ret, $out, $err) = as_app('ALTER ROLE regress_app SET ptimport.account_id = 902');
isnt($ret, 0, 'the role cannot store ptimport.account_id = 902 on itself');
like($err, qr/ERROR:  42501: permission denied to set parameter "ptimport\.account_id"/,
	'... refused by PostgreSQL for want of the privilege');
# ... and one stored by a superuser (by mistake, say) reaches nothing either.
$node->safe_psql('postgres', 'ALTER ROLE regress_app SET ptimport.account_id = 902');
($ret, $out, $err) = as_app($read_902);
like($err, qr/ERROR:  42501: role "regress_app" may not act for account 902/,
	'ALTER ROLE ... SET: a new connection cannot read account 902');
($ret, $out, $err) = as_app($import);
like($err, qr/ERROR:  42501: role "regress_app" may not act for account 902/,
	'... nor import into it');

# Account 902 is untouched; account 901, chosen by the same routes, works.
is($node->safe_psql('postgres',
		'SELECT string_agg(internal_id, \',\' ORDER BY internal_id) FROM ptimport.client WHERE account_id = 902'),
	'B1', 'account 902 holds only what the superuser imported');
$node->safe_psql('postgres', 'ALTER ROLE regress_app SET ptimport.account_id = 901');
($ret, $out, $err) = as_app($read_902);
is($out, '1', 'ALTER ROLE ... SET to its own account 901: the role reads it');
$node->safe_psql('postgres', 'ALTER ROLE regress_app RESET ptimport.account_id');
($ret, $out, $err) = as_app($read_902, PGOPTIONS => '-c ptimport.account_id=901');
is($out, '1', 'PGOPTIONS with account 901 (nothing stored on the role): the same');

$node->stop;
done_testing();
