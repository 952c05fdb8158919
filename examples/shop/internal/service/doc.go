// Package service holds what every shop program does the same way: read settings from
// flags that default to environment variables, stop on SIGTERM, and serve HTTP until
// told to stop.
package service
