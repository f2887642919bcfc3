# COORD_SANITIZE="address,undefined" or "thread" instruments everything built here.
if(COORD_SANITIZE)
  add_compile_options(-fsanitize=${COORD_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${COORD_SANITIZE})
  if(COORD_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
