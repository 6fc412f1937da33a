-- The CDC user of the docker-compose stack: what the tests, demo and CLI connect as (as in the local stack).
GRANT ALL PRIVILEGES ON *.* TO 'cdc'@'%' WITH GRANT OPTION;
