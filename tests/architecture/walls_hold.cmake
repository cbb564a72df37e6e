# Proves the module walls stand: with exactly the include paths a module is built with, a probe
# source that includes what the module may not see must fail to compile, and a control that
# includes the module's own header must compile (so a failure is the wall, not a broken setup).
#   -DCOMPILER=... -DFLAGS=... -DPROBE_DIR=... -DWORK_DIR=... and, per module M,
#   -DINCLUDES_<M>="dir|dir" (the include directories it is compiled with).

function(compiles module source result)
  set(args -std=c++23 -fsyntax-only)
  string(REPLACE "|" ";" dirs "${INCLUDES_${module}}")
  foreach(dir IN LISTS dirs)
    list(APPEND args -I${dir})
  endforeach()
  execute_process(COMMAND ${COMPILER} ${args} ${PROBE_DIR}/${source}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    set(${result} TRUE PARENT_SCOPE)
  else()
    set(${result} FALSE PARENT_SCOPE)
    set(last_error "${err}" PARENT_SCOPE)
  endif()
endfunction()

set(failures "")
function(expect module source should)
  compiles(${module} ${source} ok)
  if(should AND NOT ok)
    list(APPEND failures "${module}: ${source} should compile but does not:\n${last_error}")
  elseif(NOT should AND ok)
    list(APPEND failures "${module}: ${source} compiles, but the module may not see what it includes")
  endif()
  set(failures "${failures}" PARENT_SCOPE)
endfunction()

expect(core own_public_header.cpp TRUE)
expect(core another_modules_public_header.cpp FALSE)   # core may use no module
expect(net own_private_header.cpp TRUE)
expect(http another_modules_private_header.cpp FALSE)  # net's private header from http
expect(http allowed_public_header.cpp TRUE)            # http may use net
expect(net disallowed_public_header.cpp FALSE)         # net may not use channel
if(failures)
  string(JOIN "\n" text ${failures})
  message(FATAL_ERROR "${text}")
endif()
message(STATUS "module walls hold")
