# attacks: a file of comments only
// nothing here
/* nor here */
