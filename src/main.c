/* main.c - placeholder until the pipeline lands: prints the version. */
#include <stdio.h>

int main(void)
{
    puts("flowtally 0.1.0");
    return 0;
}
