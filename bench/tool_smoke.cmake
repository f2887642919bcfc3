# Runs every coordinate-bench subcommand briefly against daemons it launches and checks that each
# printed its result line and exited 0. No figure is checked.
# Usage: cmake -DBENCH=path/to/coordinate-bench -P tool_smoke.cmake
function(run_bench expect)
  execute_process(COMMAND ${BENCH} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  message(STATUS "coordinate-bench ${ARGN}:\n${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "coordinate-bench ${ARGN} exited ${rc}")
  endif()
  if(NOT out MATCHES "${expect}")
    message(FATAL_ERROR "coordinate-bench ${ARGN}: no line matching '${expect}'")
  endif()
endfunction()

run_bench("floor w=2: [0-9]+ rt/s" floor --workers 2 --duration 0.3)
run_bench("add w=2 batch=100 sync=off .*: [0-9]+ units/s" add --count 2000 --batch 100 --workers 2
          --sync off --backlog 100)
set(do_line "do w=2 k=10 sync=on specs=3 payload=100 backlog=1000 idle=5: [0-9]+ cycles/s")
run_bench("${do_line}.* restart=[0-9.]+s"
          do --workers 2 --batch 10 --duration 0.3 --specs 3 --backlog 1000 --idle 5 --restart
          --reserve-rate 1000)
run_bench("mixed w=2 .*: [0-9]+ ops/s.* renew p50=" mixed --workers 2 --duration 0.3 --backlog 100)
run_bench("restart sync=on .* restart=[0-9.]+s" restart --backlog 1000)
run_bench("do w=1 k=1 sync=off specs=1 payload=100 backlog=10000: [0-9]+ cycles/s"
          matrix --duration 0.2 --only "do w=1 k=1" --only sync=off --no-floor)
run_bench("do w=2 k=1 sync=off specs=1 payload=100 backlog=1000 settled: [0-9]+ cycles/s.* settle=[0-9]+s"
          do --workers 2 --batch 1 --duration 0.3 --backlog 1000 --sync off --settle)
