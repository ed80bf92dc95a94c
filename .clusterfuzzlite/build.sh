#!/bin/bash -eu
# ClusterFuzzLite build: the one build script shared with OSS-Fuzz (binaries, seed corpora,
# dictionaries, .options files and the state pool into $OUT).
exec bash "$SRC/diverge/ci/oss-fuzz/build.sh"
