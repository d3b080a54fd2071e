# The libaom release the wasm AVIF encoder is built from (sourced by setup.sh, which fetches
# it, and build.sh, which builds it). 3.12 brought `tune=iq`; no crate vendors it (libaom-sys
# has 3.11), so setup.sh takes Debian's orig tarball (the upstream release) by this hash.
AOM_VERSION=3.12.1
AOM_SHA256=40c929a41b2a59c24319a699c358351422829b3ae646de31b18cbabed0191962
AOM_SRC=target/aom-$AOM_VERSION
