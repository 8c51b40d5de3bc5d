"""The mathematics: prompts, the attention model and its fast training, predictors and Monte Carlo
risk, closed forms and the dynamics on the approximate loss. Imports nothing else of icl but
icl.arithmetic."""
