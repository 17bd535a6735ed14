"""One case (an example x a scenario) from start to finish, in one direction:

  environment -> the process and its protocol -> observation -> judgement

`pipeline.run_case` drives it; `judgement.judge` is the one function that decides an Outcome."""
