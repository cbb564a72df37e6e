#include "net/method_trial.hpp"
