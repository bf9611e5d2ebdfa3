# chordlet: build, test and install.
#
#   make              libchordlet (static and shared) and the chordlet command, in build/
#   make test         every test, on a normal build and an ASan+UBSan build, plus a
#                     clang -Werror build; ends with "N passed, N failed"
#   make data         the training data (renders, pseudo-labels, features), resumable
#   make bench        speed tables (teacher, front end) against in-process baselines
#   make eval-teacher the teacher's accuracy on the test split (docs/RESULTS.md)
#   make robustness   every model's accuracy on 30 test songs under detune, level,
#                     reverb, band, noise and Vorbis (work/robustness/table.md)
#   make fuzz         every libFuzzer harness of fuzz/ for FUZZ_SECONDS (clang, in build/fuzz)
#   make install      into $(DESTDIR)$(PREFIX) (default /usr/local): commands, man
#                     pages, models, the library (static, shared, header,
#                     chordlet.pc) and the LV2 bundle; make uninstall removes them
#
# Variables: BUILD (output folder), SAN=1 (sanitizers), CC; for install, PREFIX,
# DESTDIR and the folders below (BINDIR, LIBDIR, LV2DIR, ...).

CC      ?= cc
# MPI=1 builds in a folder of its own (build/mpi): its trainer/dist.o is not the plain one.
BUILD   ?= $(if $(filter 1,$(MPI)),build/mpi,build)
PREFIX  ?= /usr/local
SHARED  ?= $(if $(CHORDLET_SHARED),$(CHORDLET_SHARED),$(abspath ../shared))

WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
# kernels.c passes AVX vectors between inlined functions; gcc notes an ABI change from 2011
WARN    += -Wno-psabi
CFLAGS  ?= -O2 -g
# Debian packages (scripts/debian-packages): FFTW3 (single precision), libsndfile,
# libsoxr, OpenBLAS, zlib (CRC-32) for the engine; cJSON (the importer) and
# libfluidsynth (rendering MIDI) for the trainer.
ENGINE_PKGS  = fftw3f sndfile soxr openblas zlib
TRAINER_PKGS = libcjson fluidsynth libxxhash
# fluidsynth's flags define _XOPEN_SOURCE and friends: keep them to trainer/.
PKG_CFLAGS  := $(shell pkg-config --cflags $(ENGINE_PKGS) libcjson)
TRAINER_CFLAGS := $(shell pkg-config --cflags fluidsynth)
ENGINE_LIBS := $(shell pkg-config --libs $(ENGINE_PKGS)) -lm
TRAINER_LIBS = $(shell pkg-config --libs $(TRAINER_PKGS)) $(TRAINER_LIBS_MPI)

CPPFLAGS_ALL = -Iinclude -Iengine -Iapp -Itrainer $(PKG_CFLAGS)
CFLAGS_ALL   = -std=c11 $(WARN) -fPIC $(CFLAGS)
LDLIBS_ALL   = $(ENGINE_LIBS)

ifeq ($(SAN),1)
CFLAGS_ALL  += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS     += -fsanitize=address,undefined
endif

# MPI=1 (issue 16): chordlet-train with OpenMPI, so that mpirun or srun share
# its render, pseudo-label, features and training over ranks. trainer/dist.c
# is the only code that sees MPI; without MPI=1 it is one rank, no MPI needed.
ifeq ($(MPI),1)
$(if $(shell pkg-config --exists ompi-c && echo yes),,$(error MPI=1 needs OpenMPI: apt-get install libopenmpi-dev openmpi-bin))
TRAINER_LIBS_MPI := $(shell pkg-config --libs ompi-c)
$(BUILD)/obj/trainer/dist.o: CPPFLAGS_ALL += -DCHORDLET_MPI $(shell pkg-config --cflags ompi-c)
endif

ENGINE_SRC := $(sort $(wildcard engine/*.c))
APP_SRC    := $(sort $(wildcard app/*.c))
TRAINER_SRC := $(sort $(wildcard trainer/*.c))
TEST_SRC   := $(sort $(wildcard tests/test_*.c))

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/obj/%.o)
APP_OBJ    := $(APP_SRC:%.c=$(BUILD)/obj/%.o)
TRAINER_OBJ := $(TRAINER_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
# The trainer without its main(): tests of the trainer's code link it.
TRAINER_LIB_OBJ := $(filter-out $(BUILD)/obj/trainer/main.o,$(TRAINER_OBJ))

# The version is the public header's (CHORDLET_VERSION_*, what
# chordlet_version() returns); it names the shared library. The soname carries
# the major version only: libchordlet.so.0 until the ABI breaks.
VERSION   := $(shell awk '$$2 ~ /^CHORDLET_VERSION_(MAJOR|MINOR|PATCH)$$/ {printf "%s%s", s, $$3; s="."}' include/chordlet.h)
SOVERSION := $(firstword $(subst ., ,$(VERSION)))
SONAME    := libchordlet.so.$(SOVERSION)
LIB_A    := $(BUILD)/libchordlet.a
LIB_REAL := $(BUILD)/libchordlet.so.$(VERSION)
LIB_SO   := $(BUILD)/libchordlet.so
LIB_MAP  := $(BUILD)/libchordlet.map
PC       := $(BUILD)/chordlet.pc
CMD    := $(BUILD)/chordlet
TRAIN  := $(BUILD)/chordlet-train

.PHONY: all tests test install uninstall clean eval-teacher robustness bench data model baseline ablations plugin
all: $(LIB_A) $(LIB_SO) $(BUILD)/$(SONAME) $(PC) $(CMD) $(if $(TRAINER_SRC),$(TRAIN)) plugin
tests: all $(TEST_BIN)

$(BUILD)/obj/trainer/%.o: CPPFLAGS_ALL += $(TRAINER_CFLAGS)
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_ALL) $(CPPFLAGS) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB_A): $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# The shared library exports the public API only (the functions chordlet.h
# declares, read from the preprocessed header so comments do not count): the
# engine's internals stay free to change without an soname bump, and a
# package's symbols file lists what users can call. -z defs: every library it
# needs is on its link line (a user links -lchordlet alone).
$(LIB_MAP): include/chordlet.h
	@mkdir -p $(dir $@)
	{ echo '{ global:'; $(CC) -E -P $< | grep -o '\bchordlet_[a-z0-9_]*[[:space:]]*(' | tr -d ' (' | sort -u | sed 's/.*/  &;/'; \
	  echo '  local: *;'; echo '};'; } > $@.tmp && mv $@.tmp $@
$(LIB_REAL): $(ENGINE_OBJ) $(LIB_MAP)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(SONAME) -Wl,--version-script,$(LIB_MAP) -Wl,-z,defs \
	  -o $@ $(ENGINE_OBJ) $(LDLIBS_ALL)
# The links a system has: SONAME for the dynamic loader, libchordlet.so for -lchordlet.
$(BUILD)/$(SONAME): $(LIB_REAL)
	ln -sf $(notdir $<) $@
$(LIB_SO): $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

# Install folders (GNU names). LIBDIR may be multiarch for a distribution
# (LIBDIR=/usr/lib/x86_64-linux-gnu); chordlet.pc goes beside the library, so
# pkg-config finds the one it describes. The models go to
# $(PREFIX)/share/chordlet/models whatever DATADIR says: an installed chordlet
# looks for them in <its folder>/../share/chordlet/models (app/model_paths.c),
# so with a BINDIR other than $(PREFIX)/bin they are found only through
# CHORDLET_MODELS or a path. LV2DIR is where LV2 hosts look by default (LV2_PATH
# holds /usr/lib/lv2 and /usr/local/lib/lv2; Debian's LV2 packages use /usr/lib/lv2).
BINDIR       ?= $(PREFIX)/bin
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
DATADIR      ?= $(PREFIX)/share
MANDIR       ?= $(DATADIR)/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
LV2DIR       ?= $(PREFIX)/lib/lv2
MODELDIR     := $(PREFIX)/share/chordlet/models

# pkg-config: written on every make, and replaced only when its text changes,
# so `make install PREFIX=/usr` after `make` installs a file that says /usr.
# A static link needs the engine's libraries: Requires.private (their own .pc
# files) and Libs.private. Folders under $(PREFIX) are written as ${prefix}/...
# so `pkg-config --define-prefix` can relocate them.
pc_path = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
.PHONY: FORCE
$(PC): chordlet.pc.in FORCE
	@mkdir -p $(dir $@)
	@sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(call pc_path,$(LIBDIR))|' \
	  -e 's|@INCLUDEDIR@|$(call pc_path,$(INCLUDEDIR))|' -e 's|@VERSION@|$(VERSION)|' \
	  -e 's|@REQUIRES_PRIVATE@|$(ENGINE_PKGS)|' -e 's|@LIBS_PRIVATE@|-lm|' $< > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; echo "wrote $@"; fi

# `chordlet live` captures through PortAudio or JACK; --plot draws with cairo.
APP_LIBS := $(shell pkg-config --libs portaudio-2.0 jack cairo fontconfig)
$(BUILD)/obj/app/%.o: CPPFLAGS_ALL += $(shell pkg-config --cflags portaudio-2.0 jack cairo fontconfig)
$(CMD): $(APP_OBJ) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(APP_OBJ) $(LIB_A) $(APP_LIBS) $(LDLIBS_ALL)

$(TRAIN): $(TRAINER_OBJ) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $(TRAINER_OBJ) $(LIB_A) $(TRAINER_LIBS) $(LDLIBS_ALL)

# Tests may read the JSON files of ../shared, so they link cJSON too, and the
# trainer's objects (tests of the trainer's code).
$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TRAINER_LIB_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(TRAINER_LIB_OBJ) $(LIB_A) $(TRAINER_LIBS) $(LDLIBS_ALL)

# The LV2 bundle: the plugin, its Turtle, and the shipped live model beside
# them (the plugin loads <bundle>/default.chordlet). Only lv2_descriptor is
# exported: the engine inside stays private to the plugin.
PLUGIN_DIR := $(BUILD)/lv2/chordlet.lv2
# The UI (chordlet_ui.so: X11 + cairo) is a binary of its own, as LV2 wants.
PLUGIN_OBJ := $(BUILD)/obj/plugin/chordlet_lv2.o $(BUILD)/obj/plugin/audio_delay.o
UI_OBJ     := $(BUILD)/obj/plugin/chordlet_ui.o
UI_PKGS    := cairo x11
$(BUILD)/obj/plugin/%.o: CPPFLAGS_ALL += -Iplugin $(shell pkg-config --cflags lv2 cairo x11)
plugin: $(PLUGIN_DIR)/chordlet.so $(PLUGIN_DIR)/chordlet_ui.so $(PLUGIN_DIR)/manifest.ttl $(PLUGIN_DIR)/chordlet.ttl \
        $(PLUGIN_DIR)/default.chordlet
$(PLUGIN_DIR)/chordlet.so: $(PLUGIN_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -Wl,--exclude-libs,ALL -Wl,-z,defs -o $@ $(PLUGIN_OBJ) $(LIB_A) $(shell pkg-config --libs cairo) $(LDLIBS_ALL)
$(PLUGIN_DIR)/chordlet_ui.so: $(UI_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -Wl,--exclude-libs,ALL -Wl,-z,defs -o $@ $(UI_OBJ) $(LIB_A) $(shell pkg-config --libs $(UI_PKGS)) $(LDLIBS_ALL)
$(PLUGIN_DIR)/%.ttl: ttl/%.ttl
	@mkdir -p $(dir $@)
	cp $< $@
$(PLUGIN_DIR)/default.chordlet: models/default.chordlet
	@mkdir -p $(dir $@)
	cp $< $@

# A helper of tests/live_jack.sh: plays a file into JACK.
$(BUILD)/tests/jack_play: $(BUILD)/obj/tests/jack_play.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(shell pkg-config --libs jack) $(LDLIBS_ALL)
tests: $(BUILD)/tests/jack_play

# A helper of tests/ui_jalv.sh: opens and closes the UI (under valgrind).
$(BUILD)/obj/tests/ui_cycle.o: CPPFLAGS_ALL += $(shell pkg-config --cflags lv2 x11)
$(BUILD)/tests/ui_cycle: $(BUILD)/obj/tests/ui_cycle.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(shell pkg-config --libs x11) -ldl
tests: $(BUILD)/tests/ui_cycle

# The allocation-failure sweep (issue 17). tests/alloc_fail_cli.sh preloads
# libfailmalloc.so into the chordlet command (tests/failmalloc.h): built
# without the sanitizers, as ASan owns malloc (the sweep runs on the normal
# build). test_alloc_fail drives the plugin's instantiate, activate and
# worker, so it needs the bundle and the LV2 headers.
$(BUILD)/tests/libfailmalloc.so: tests/failmalloc.c tests/failmalloc.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) -fPIC -O2 -g -shared -o $@ $< -ldl
tests: $(BUILD)/tests/libfailmalloc.so
$(BUILD)/obj/tests/test_alloc_fail.o: CPPFLAGS_ALL += -Iplugin $(shell pkg-config --cflags lv2)
$(BUILD)/tests/test_alloc_fail: | plugin

# The LV2 host test loads the bundle with lilv.
# It links cairo and fontconfig itself: they stay loaded when lilv unloads
# the plugin, so their caches can be released at the end (leak checking).
$(BUILD)/obj/tests/test_lv2_host.o: CPPFLAGS_ALL += $(shell pkg-config --cflags lilv-0 lv2 cairo fontconfig)
$(BUILD)/tests/test_lv2_host: LDLIBS_ALL += $(shell pkg-config --libs lilv-0 cairo fontconfig)
$(BUILD)/tests/test_lv2_host: | plugin

# The test runner builds the variants itself (normal, sanitizers, clang).
test:
	@CHORDLET_SHARED="$(SHARED)" sh tests/run_all.sh

# The teacher's accuracy on the test split (docs/RESULTS.md): renders the test
# songs with fluidsynth, transcribes and scores them. Long: tens of minutes.
eval-teacher: all
	sh scripts/eval-teacher.sh $(SHARED)

# How much accuracy each model loses to real-world audio (scripts/robustness.sh,
# issue 14): 30 test songs degraded under named conditions, transcribed by the
# shipped students and the teacher, scored against their clean scores. About
# 35 minutes on 2 cores; degraded audio and estimates are reused. ROBUSTNESS_MODELS,
# ROBUSTNESS_CONDITIONS, ROBUSTNESS_SONGS, ROBUSTNESS_JOBS select (see the script).
robustness: all
	CHORDLET_SHARED="$(SHARED)" sh scripts/robustness.sh

# The training data (scripts/make-data.sh): Debian's free recorded music (a
# 7.1 GB download, scripts/fetch-real-music.sh), renders, pseudo-labels, feature
# caches in work/data; resumable. About an hour on 2 cores for all pools.
data: all
	CHORDLET_SHARED="$(SHARED)" sh scripts/make-data.sh

# The shipped live student (scripts/make-model.sh): make data, stage 1, stage 2,
# models/default.chordlet. Resumable. The supervised baseline of docs/RESULTS.md
# is `make baseline` (same steps, ground truth only).
model: data
	sh scripts/make-model.sh

baseline: data
	sh scripts/make-baseline.sh

# Design questions on the validation split (scripts/ablations.sh): real
# recordings in stage 1, the KD weight alpha, pitch-shift augmentation.
ablations: data
	sh scripts/ablations.sh

# Speed tables (docs/RESULTS.md): x real time against in-process baselines.
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(TRAINER_LIB_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(TRAINER_LIB_OBJ) $(LIB_A) $(TRAINER_LIBS) $(LDLIBS_ALL)

$(BUILD)/obj/bench/bench_lv2.o: CPPFLAGS_ALL += $(shell pkg-config --cflags lilv-0 lv2)
$(BUILD)/bench/bench_lv2: LDLIBS_ALL += $(shell pkg-config --libs lilv-0)
bench: all $(BENCH_BIN)
	@for b in $(BENCH_BIN); do CHORDLET_SHARED="$(SHARED)" OPENBLAS_NUM_THREADS=2 $$b || exit 1; echo; done
	@# chordlet-train over MPI ranks (bench/bench_mpi.sh builds $(BUILD)/mpi; skipped without OpenMPI)
	@sh bench/bench_mpi.sh $(BUILD)

# The soak of the live path (issue 17, tests/soak_live.c): 6 h of audio through
# the stream API and 2 h through the plugin in lilv, as fast as they go (RSS,
# drops, identical repeated hours; a table), then 10 minutes of each under
# valgrind (0 errors, no definite leak). docs/RESULTS.md has the figures.
$(BUILD)/obj/tests/soak_live.o: CPPFLAGS_ALL += $(shell pkg-config --cflags lilv-0 lv2)
$(BUILD)/tests/soak_live: LDLIBS_ALL += $(shell pkg-config --libs lilv-0)
$(BUILD)/tests/soak_live: | plugin
.PHONY: soak
soak: all $(BUILD)/tests/soak_live
	OPENBLAS_NUM_THREADS=1 $(BUILD)/tests/soak_live --stream-hours 6 --plugin-hours 2
	OPENBLAS_NUM_THREADS=1 valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
	  --keep-debuginfo=yes --suppressions=tests/valgrind-fontconfig.supp --suppressions=tests/valgrind-pixman.supp \
	  $(BUILD)/tests/soak_live --stream-hours 0.1667 --plugin-hours 0.1667 --period-minutes 5 --no-rss-check

# libFuzzer harnesses (fuzz/, issue 17): `make fuzz` (scripts/fuzz.sh) and
# tests/fuzz_regress.sh build them with clang into a folder of their own:
#   make BUILD=build/fuzz CC=clang FUZZER=1 fuzzers
# FUZZER=1 instruments every object for coverage (-fsanitize=fuzzer-no-link)
# under ASan+UBSan; each harness links libFuzzer's main, the trainer's objects
# and the engine; fuzz_lv2 also links the plugin. make_seeds writes the model
# seeds with the engine's writer.
ifeq ($(FUZZER),1)
CFLAGS_ALL  += -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
               -fsanitize-coverage-ignorelist=fuzz/coverage-ignore.txt
LDFLAGS     += -fsanitize=address,undefined
endif
FUZZ_SRC := $(sort $(filter-out fuzz/fuzz_util.c,$(wildcard fuzz/fuzz_*.c)))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_UTIL_OBJ := $(BUILD)/obj/fuzz/fuzz_util.o
FUZZ_EXTRA :=
$(BUILD)/obj/fuzz/%.o: CPPFLAGS_ALL += -Ifuzz
$(BUILD)/obj/fuzz/fuzz_lv2.o: CPPFLAGS_ALL += -Iplugin $(shell pkg-config --cflags lv2)
$(BUILD)/fuzz/fuzz_lv2: $(PLUGIN_OBJ)
$(BUILD)/fuzz/fuzz_lv2: FUZZ_EXTRA = $(PLUGIN_OBJ) $(shell pkg-config --libs cairo)
$(BUILD)/fuzz/%: $(BUILD)/obj/fuzz/%.o $(FUZZ_UTIL_OBJ) $(TRAINER_LIB_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_UTIL_OBJ) $(FUZZ_EXTRA) $(TRAINER_LIB_OBJ) $(LIB_A) $(TRAINER_LIBS) $(LDLIBS_ALL)
$(BUILD)/fuzz/make_seeds: $(BUILD)/obj/fuzz/make_seeds.o $(FUZZ_UTIL_OBJ) $(TRAINER_LIB_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TRAINER_LIBS) $(LDLIBS_ALL)
.PHONY: fuzzers fuzz
fuzzers: $(FUZZ_BIN) $(BUILD)/fuzz/make_seeds

# Runs every harness for FUZZ_SECONDS (default 180), or with FUZZ_GOAL=N until
# the ledger (work/fuzz/ledger.tsv) counts N executions of each, resumable, and
# prints tables (scripts/fuzz.sh: FUZZ_TARGETS, FUZZ_BUILD); a crash's input
# goes to fuzz/regressions/<target>/ and the exit status is 1.
fuzz:
	sh scripts/fuzz.sh

# DESTDIR stages the tree for a package (tests/install_cli.sh installs into a
# temporary root). The shared library goes in as a file and its two links, as
# ldconfig would make them.
MAN_PAGES := man/chordlet.1 $(if $(TRAINER_SRC),man/chordlet-train.1)
PLUGIN_FILES := chordlet.so chordlet_ui.so manifest.ttl chordlet.ttl default.chordlet
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MODELDIR) $(DESTDIR)$(LV2DIR)/chordlet.lv2
	install -m 755 $(CMD) $(DESTDIR)$(BINDIR)/chordlet
	$(if $(TRAINER_SRC),install -m 755 $(TRAIN) $(DESTDIR)$(BINDIR)/chordlet-train)
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 644 $(LIB_REAL) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(LIB_REAL)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libchordlet.so
	install -m 644 include/chordlet.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(PC) $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(wildcard models/*.chordlet) models/teacher.LICENSE models/README.md $(DESTDIR)$(MODELDIR)/
	install -m 644 $(addprefix $(PLUGIN_DIR)/,$(filter %.ttl %.chordlet,$(PLUGIN_FILES))) $(DESTDIR)$(LV2DIR)/chordlet.lv2/
	install -m 755 $(addprefix $(PLUGIN_DIR)/,$(filter %.so,$(PLUGIN_FILES))) $(DESTDIR)$(LV2DIR)/chordlet.lv2/

# Removes what install put there (same variables), and the folders of our own.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/chordlet $(DESTDIR)$(BINDIR)/chordlet-train
	rm -f $(DESTDIR)$(LIBDIR)/libchordlet.a $(DESTDIR)$(LIBDIR)/libchordlet.so $(DESTDIR)$(LIBDIR)/$(SONAME) \
	  $(DESTDIR)$(LIBDIR)/$(notdir $(LIB_REAL))
	rm -f $(DESTDIR)$(INCLUDEDIR)/chordlet.h $(DESTDIR)$(PKGCONFIGDIR)/chordlet.pc
	rm -f $(DESTDIR)$(MANDIR)/man1/chordlet.1 $(DESTDIR)$(MANDIR)/man1/chordlet-train.1
	rm -rf $(DESTDIR)$(MODELDIR) $(DESTDIR)$(LV2DIR)/chordlet.lv2
	rmdir $(DESTDIR)$(PREFIX)/share/chordlet 2>/dev/null || true

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
