// An --exec agent for the e2e test: reads the task JSON on stdin, prints JSON on stdout.
let input = '';
process.stdin.setEncoding('utf8').on('data', (c) => (input += c));
process.stdin.on('end', () => {
  const task = JSON.parse(input);
  process.stdout.write(
    JSON.stringify({ upper: String(task.input.params).toUpperCase(), step: task.step, kind: task.kind }),
  );
});
