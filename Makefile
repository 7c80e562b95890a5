# pg_governance — PGXS build.
MODULE_big = pg_governance
OBJS = \
	src/module.o \
	src/category.o \
	src/region.o \
	src/iso3166.o \
	src/label.o \
	src/yaml_tree.o \
	src/policy_schema.o \
	src/policy_load.o \
	src/guard_cache.o \
	src/guard.o \
	src/guard_prepare.o \
	src/guard_attach.o \
	src/ddl.o

EXTENSION = pg_governance
DATA = pg_governance--0.1.sql
# Bundled policies are installed next to the extension's SQL scripts, where
# governance.load_bundled_policy() looks for them.
DATA_policies = $(wildcard policies/*.yaml)

REGRESS = types policy_load labels guard guard_prepare
REGRESS_OPTS = --inputdir=. --load-extension=pg_governance
# isolation tests (specs/*.spec): concurrent sessions
ISOLATION = guard_concurrency
ISOLATION_OPTS = --load-extension=pg_governance

PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wall -Wextra -Wno-unused-parameter -Werror
SHLIB_LINK = -lyaml

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# every object includes the shared header (PGXS tracks no header dependencies)
$(OBJS): src/pg_governance.h

policydir = $(DESTDIR)$(datadir)/extension/pg_governance
install: install-policies
install-policies:
	$(MKDIR_P) '$(policydir)'
	$(INSTALL_DATA) $(DATA_policies) '$(policydir)/'
uninstall: uninstall-policies
uninstall-policies:
	rm -rf '$(policydir)'
.PHONY: install-policies uninstall-policies
