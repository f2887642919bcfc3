# Warning flags for every target of the project, as an INTERFACE library.
add_library(coord_warnings INTERFACE)
target_compile_options(coord_warnings INTERFACE -Wall -Wextra -Werror)
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  target_compile_options(coord_warnings INTERFACE -Wthread-safety)
endif()
