#include "core/err.h"

static const char *const ft_err_names[FT_ERR_COUNT] = {
    "ok",
#define FT_ERR_NAME(e, name, reason) #name,
    FT_ERR_MAP(FT_ERR_NAME)
#undef FT_ERR_NAME
};

static const char *const ft_err_reasons[FT_ERR_COUNT] = {
    "no error",
#define FT_ERR_REASON(e, name, reason) reason,
    FT_ERR_MAP(FT_ERR_REASON)
#undef FT_ERR_REASON
};

const char *ft_err_name(ft_err e)
{
    return (unsigned)e < FT_ERR_COUNT ? ft_err_names[e] : "unknown";
}

const char *ft_err_reason(ft_err e)
{
    return (unsigned)e < FT_ERR_COUNT ? ft_err_reasons[e] : "unknown error";
}
