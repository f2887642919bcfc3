# COORD_SANITIZE="address,undefined" or "thread" instruments everything built here.
if(COORD_SANITIZE)
  add_compile_options(-fsanitize=${COORD_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${COORD_SANITIZE})
  if(COORD_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC warns that TSan does not model std::atomic_thread_fence (Boost.Asio uses one in its
    # fenced blocks); the mutexes around them are modelled, so keep the warning, not the error.
    add_compile_options(-Wno-error=tsan)
  endif()
  if(COORD_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
