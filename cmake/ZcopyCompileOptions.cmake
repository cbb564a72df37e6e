# Warnings and sanitizers, applied the same way to every zcopy target.

function(zcopy_target_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
    $<$<BOOL:${ZCOPY_WERROR}>:-Werror>)
endfunction()

if(ZCOPY_SANITIZE)
  add_compile_options(-fsanitize=${ZCOPY_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${ZCOPY_SANITIZE})
endif()

if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # libstdc++ 12 gates <expected> on the C++20 concepts level; clang >= 16 implements what it
  # needs but still reports the older value.
  add_compile_options(-U__cpp_concepts -D__cpp_concepts=202002L -Wno-builtin-macro-redefined)
endif()

if(ZCOPY_BUILD_FUZZERS)
  # Coverage feedback from the library itself, not just the fuzz entry points.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
