# embed.cmake - writes the bytes of IN as a NUL-terminated C array NAME into
# OUT, so the binary carries the file (sql/schema.sql) and never looks for it
# at run time.  cmake -DIN=... -DOUT=... -DNAME=... -P embed.cmake
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "/* generated from ${IN} by cmake/embed.cmake: do not edit */\n"
     "extern const char ${NAME}[];\nconst char ${NAME}[] = {${bytes}0x00};\n")
