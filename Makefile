# ptimport: PGXS build.  The version comes from ptimport.control alone.
EXTENSION = ptimport
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = ptimport
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA = $(wildcard $(EXTENSION)--*.sql)
PGFILEDESC = "ptimport - validated CSV import of client lists"

PG_CPPFLAGS = -I$(srcdir)/src
SHLIB_LINK += -lcsv

# pg_regress: one file per topic in sql/, expected output in expected/.
REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --inputdir=. --encoding=UTF8

# pg_isolation_regress: concurrency specs in test/isolation/specs.
ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=output_iso --encoding=UTF8

# TAP tests (PostgreSQL::Test::Cluster) in test/t, sharing test/t/PtImportTest.pm.
# They make their own clusters with the installation's initdb (not as root).
TAP_TESTS = 1
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))

EXTRA_CLEAN = results/ regression.diffs regression.out log/ tmp_check/ output_iso/

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# (After PGXS, which sets PROVE_FLAGS empty.)
PROVE_FLAGS = -I test/t --timer

# PGXS tracks no header dependencies: every object depends on every header.
$(OBJS): $(wildcard src/*.h)
