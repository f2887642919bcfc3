# Every external dependency, found once, from Debian 12 packages only.
# scripts/install-deps.sh installs exactly the packages named here.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

# RocksDB (librocksdb-dev): Debian ships a CMake config.
find_package(RocksDB CONFIG QUIET)
if(TARGET RocksDB::rocksdb)
  set(COORD_ROCKSDB RocksDB::rocksdb)
else()
  pkg_check_modules(ROCKSDB REQUIRED IMPORTED_TARGET rocksdb)
  set(COORD_ROCKSDB PkgConfig::ROCKSDB)
endif()

# libcbor (libcbor-dev): pkg-config only.
pkg_check_modules(LIBCBOR REQUIRED IMPORTED_TARGET libcbor)
set(COORD_CBOR PkgConfig::LIBCBOR)

find_package(yaml-cpp REQUIRED)          # libyaml-cpp-dev
if(TARGET yaml-cpp::yaml-cpp)
  set(COORD_YAML yaml-cpp::yaml-cpp)
else()
  set(COORD_YAML yaml-cpp)
endif()
find_package(Boost 1.74 REQUIRED)        # libboost-dev (Asio, Beast: header-only)
find_package(fmt REQUIRED)               # libfmt-dev
find_package(spdlog REQUIRED)            # libspdlog-dev
find_package(CLI11 CONFIG REQUIRED)      # libcli11-dev
find_package(nlohmann_json REQUIRED)     # nlohmann-json3-dev

if(COORD_JEMALLOC)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)  # libjemalloc-dev
endif()

if(COORD_BUILD_TESTS)
  find_package(GTest REQUIRED)           # libgtest-dev, libgmock-dev
endif()
if(COORD_BUILD_BENCH)
  find_package(benchmark REQUIRED)       # libbenchmark-dev
endif()
