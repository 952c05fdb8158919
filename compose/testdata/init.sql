-- the init script the db service mounts (a stand-in for the test)
CREATE TABLE t (id int);
