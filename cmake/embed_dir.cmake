# embed_dir.cmake - writes every file under DIR (recursively, dot files and
# dot folders skipped) into OUT as the table ft_web_assets[] of
# src/http/assets.h: {path relative to DIR, bytes, length}, sorted by path,
# each array NUL-terminated (not counted in the length).
#   cmake -DDIR=web -DOUT=gen/web_assets.c -P embed_dir.cmake
file(GLOB_RECURSE files RELATIVE "${DIR}" "${DIR}/*")
list(SORT files)
set(arrays "")
set(rows "")
set(n 0)
foreach(rel IN LISTS files)
  if(rel MATCHES "(^|/)\\.")
    continue()
  endif()
  file(READ "${DIR}/${rel}" hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND arrays "static const unsigned char a${n}[] = {${bytes}0x00};\n")
  string(APPEND rows "    {\"${rel}\", a${n}, ${len}},\n")
  math(EXPR n "${n} + 1")
endforeach()
file(WRITE "${OUT}" "/* generated from ${DIR} by cmake/embed_dir.cmake: do not edit */\n"
     "#include <stddef.h>\n#include \"http/assets.h\"\n${arrays}"
     "const ft_asset ft_web_assets[] = {\n${rows}    {NULL, NULL, 0}\n};\n"
     "const size_t ft_web_assets_n = ${n};\n")
