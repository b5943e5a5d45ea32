// Run by apps/duktape on Kiln and, for the comparison test, by the same engine built natively.
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
print('fib(20) =', fib(20));
var primes = [];
for (var i = 2; primes.length < 15; i++) {
  if (primes.every(function (p) { return i % p !== 0; })) primes.push(i);
}
print('primes:', primes.join(','));
var o = { name: 'kiln', list: [1, 2.5, 'three', null, true], nested: { x: -1 } };
print('json:', JSON.stringify(o));
print('parsed back:', JSON.parse(JSON.stringify(o)).list[2]);
print('math:', Math.sqrt(2).toFixed(6), Math.pow(2, 40), (0.1 + 0.2).toPrecision(17));
print('regexp:', 'a1b22c333'.replace(/\d+/g, function (m) { return '[' + m.length + ']'; }));
print('sorted:', ['pear', 'apple', 'fig'].sort().join(' '));
var words = {};
'the quick brown fox jumps over the lazy dog the end'.split(' ').forEach(function (w) { words[w] = (words[w] || 0) + 1; });
print('the x', words.the);
try { null.f(); } catch (e) { print('caught:', e.name); }
print('date ok:', typeof Date.now() === 'number');
