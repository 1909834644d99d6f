# lmerTest's Satterthwaite inference for the designs here: the fixtures of
# tests/mushra/analysis/test_satterthwaite.py, made once so that CI does not need R.
#
#   apt-get install r-cran-lmertest r-cran-jsonlite          # Debian's packages
#   .venv/bin/python -m tests.mushra.analysis.lmertest.designs
#   .venv/bin/python -m tests.mushra.analysis.lmertest.codec  # needs ../shared/datasets
#   Rscript tests/mushra/analysis/lmertest/make_reference.R   # writes reference.json
#
# Each design is fitted with both models of mushra.analysis, treatment coding against the
# baseline named below: the default (1|listener) + (1|item) on every condition, and the
# confirmatory one adding (1|listener:condition) + (1|item:condition).
suppressMessages({
  library(lmerTest)
  library(jsonlite)
})
here <- dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))))

fit_one <- function(df, baseline, full) {
  df$condition <- relevel(factor(df$condition), ref = baseline)
  df$listener <- factor(df$listener)
  df$item <- factor(df$item)
  f <- if (full) {
    score ~ condition + (1 | listener) + (1 | item) + (1 | listener:condition) + (1 | item:condition)
  } else {
    score ~ condition + (1 | listener) + (1 | item)
  }
  m <- lmer(f, data = df, REML = TRUE,
            control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
  co <- summary(m, ddf = "Satterthwaite")$coefficients
  ci <- t(sapply(seq_len(nrow(co)), function(j) {
    L <- numeric(nrow(co)); L[j] <- 1
    r <- contest(m, L, joint = FALSE, confint = TRUE, ddf = "Satterthwaite")
    c(r$lower, r$upper)
  }))
  # One comparison between two non-baseline conditions: the contrast of their coefficients.
  pair <- NULL
  if (nrow(co) >= 3) {
    L <- numeric(nrow(co)); L[2] <- 1; L[3] <- -1
    r <- contest(m, L, joint = FALSE, confint = TRUE, ddf = "Satterthwaite")
    pair <- list(a = sub("^condition", "", rownames(co)[2]),
                 b = sub("^condition", "", rownames(co)[3]),
                 estimate = r$Estimate, se = r$"Std. Error", df = r$df, t = r$"t value",
                 p = r$"Pr(>|t|)", ci_lower = r$lower, ci_upper = r$upper)
  }
  vc <- as.data.frame(VarCorr(m))
  list(
    baseline = baseline,
    terms = sub("^condition", "", rownames(co)),
    estimate = unname(co[, "Estimate"]),
    se = unname(co[, "Std. Error"]),
    df = unname(co[, "df"]),
    t = unname(co[, "t value"]),
    p = unname(co[, "Pr(>|t|)"]),
    ci_lower = unname(ci[, 1]),
    ci_upper = unname(ci[, 2]),
    reml_loglik = as.numeric(logLik(m)),
    singular = isSingular(m),
    pair = pair,
    variance = setNames(as.list(vc$vcov), vc$grp)
  )
}

designs <- list(
  two_listeners = "sys0",
  four_listeners_unbalanced = "sys0",
  twelve_listeners = "sys1",
  no_interaction = "sys0",
  codec_mushra = list(default = "Reference", full = "AudioDec",
                      not_tested = c("Reference", "Anchor"))
)
out <- list()
for (name in names(designs)) {
  path <- file.path(here, paste0(name, ".csv"))
  if (!file.exists(path)) next
  df <- read.csv(path, stringsAsFactors = FALSE)
  spec <- designs[[name]]
  if (is.list(spec)) {
    tested <- df[!(df$condition %in% spec$not_tested), ]
    out[[name]] <- list(default = fit_one(df, spec$default, FALSE),
                        full = fit_one(tested, spec$full, TRUE))
  } else {
    out[[name]] <- list(default = fit_one(df, spec, FALSE), full = fit_one(df, spec, TRUE))
  }
}
out$versions <- list(lme4 = as.character(packageVersion("lme4")),
                     lmerTest = as.character(packageVersion("lmerTest")),
                     R = R.version.string)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "reference.json"))
