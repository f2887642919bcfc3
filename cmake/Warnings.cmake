# Warning flags for every target of the project, as an INTERFACE library.
add_library(coord_warnings INTERFACE)
target_compile_options(coord_warnings INTERFACE -Wall -Wextra -Werror)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 at -O3 reports -Wrestrict false positives inside std::string's operator+
  # (GCC bug 105329); the warning is not actionable in our code.
  target_compile_options(coord_warnings INTERFACE -Wno-restrict)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  target_compile_options(coord_warnings INTERFACE -Wthread-safety)
endif()
