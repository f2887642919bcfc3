# Runs every micro-benchmark binary once with a tiny minimum time; fails when one fails.
# Usage: cmake -DBINARIES="a|b|c" -P smoke.cmake
string(REPLACE "|" ";" binaries "${BINARIES}")
foreach(binary IN LISTS binaries)
  execute_process(COMMAND ${binary} --benchmark_min_time=0.01 RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${binary} failed (${rc})")
  endif()
endforeach()
